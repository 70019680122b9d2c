// Scalar twin of the MLA absorbed attention: the reference's loops (engine/deepseek/mla.ts) in f32.
import { softmax_scalar } from './scalar';

@inline function f(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

export function mla_attention_scalar(
  out: usize, qNope: usize, qPe: usize, kvB: usize, kv: usize, pe: usize, scratch: usize,
  heads: i32, nope: i32, rope: i32, vDim: i32, latent: i32, nPos: i32, scale: f32,
): void {
  const C = latent, per = nope + vDim;
  const qLat = scratch, oLat = qLat + (<usize>C << 2), att = oLat + (<usize>C << 2);
  for (let h = 0; h < heads; h++) {
    for (let c = 0; c < C; c++) {
      let s: f32 = 0;
      for (let i = 0; i < nope; i++) s += f(qNope, h * nope + i) * f(kvB, (h * per + i) * C + c);
      store<f32>(qLat + (<usize>c << 2), s);
    }
    for (let t = 0; t < nPos; t++) {
      let s: f32 = 0;
      for (let c = 0; c < C; c++) s += f(qLat, c) * f(kv, t * C + c);
      for (let r = 0; r < rope; r++) s += f(qPe, h * rope + r) * f(pe, t * rope + r);
      store<f32>(att + (<usize>t << 2), s * scale);
    }
    softmax_scalar(att, nPos);
    for (let c = 0; c < C; c++) {
      let s: f32 = 0;
      for (let t = 0; t < nPos; t++) s += f(att, t) * f(kv, t * C + c);
      store<f32>(oLat + (<usize>c << 2), s);
    }
    for (let j = 0; j < vDim; j++) {
      let s: f32 = 0;
      for (let c = 0; c < C; c++) s += f(oLat, c) * f(kvB, (h * per + nope + j) * C + c);
      store<f32>(out + (<usize>(h * vDim + j) << 2), s);
    }
  }
}
