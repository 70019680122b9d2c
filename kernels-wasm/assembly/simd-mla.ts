// MLA absorbed decode attention (engine/deepseek/mla.ts mlaAbsorbedAttention), f32x4. The cache holds one
// latent kv_norm(c_kv)[C] and one rope key k_pe[rope] per position, shared by every head (that is MLA's
// point), so the position loop is outermost: each cached row is read once, from DRAM, and serves all heads
// from L1. W_UK folds into the query (qLat = q_nope · W_UK), W_UV into the output (o = (p · kv) · W_UVᵀ).
import { dot1 } from './simd-dot';
import { softmax } from './simd-vector';

/** y[n] += a · x[n] */
@inline function axpy(y: usize, x: usize, a: f32, n: i32): void {
  const av = f32x4.splat(a), end4 = <usize>(n & ~3) << 2, end = <usize>n << 2;
  let j: usize = 0;
  for (; j < end4; j += 16) v128.store(y + j, f32x4.add(v128.load(y + j), f32x4.mul(av, v128.load(x + j))));
  for (; j < end; j += 4) store<f32>(y + j, load<f32>(y + j) + a * load<f32>(x + j));
}

/**
 * out[H·v] from qNope[H·nope], qPe[H·rope] (rotated), kvB[H·(nope+v), C] (per head: W_UK rows, then W_UV
 * rows), kv[nPos, C], pe[nPos, rope]. scratch: f32 [2·H·C + H·nPos] (qLat, oLat, att).
 */
export function mla_attention(
  out: usize, qNope: usize, qPe: usize, kvB: usize, kv: usize, pe: usize, scratch: usize,
  heads: i32, nope: i32, rope: i32, vDim: i32, latent: i32, nPos: i32, scale: f32,
): void {
  const C = <usize>latent, rowBytes = C << 2, per = <usize>(nope + vDim);
  const qLat = scratch, oLat = qLat + <usize>heads * rowBytes, att = oLat + <usize>heads * rowBytes;
  memory.fill(qLat, 0, <usize>heads * rowBytes * 2); // qLat and oLat
  for (let h = 0; h < heads; h++) {
    const wuk = kvB + <usize>h * per * rowBytes, qh = qNope + (<usize>(h * nope) << 2);
    for (let i = 0; i < nope; i++) axpy(qLat + <usize>h * rowBytes, wuk + <usize>i * rowBytes, load<f32>(qh + (<usize>i << 2)), latent);
  }
  for (let t = 0; t < nPos; t++) {
    const kvt = kv + <usize>t * rowBytes, pet = pe + (<usize>(t * rope) << 2);
    for (let h = 0; h < heads; h++) {
      const s = dot1(qLat + <usize>h * rowBytes, kvt, latent) + dot1(qPe + (<usize>(h * rope) << 2), pet, rope);
      store<f32>(att + (<usize>(h * nPos + t) << 2), s * scale);
    }
  }
  for (let h = 0; h < heads; h++) softmax(att + (<usize>(h * nPos) << 2), nPos);
  for (let t = 0; t < nPos; t++) {
    const kvt = kv + <usize>t * rowBytes;
    for (let h = 0; h < heads; h++) axpy(oLat + <usize>h * rowBytes, kvt, load<f32>(att + (<usize>(h * nPos + t) << 2)), latent);
  }
  for (let h = 0; h < heads; h++) {
    const wuv = kvB + (<usize>h * per + <usize>nope) * rowBytes;
    for (let j = 0; j < vDim; j++) {
      store<f32>(out + (<usize>(h * vDim + j) << 2), dot1(oLat + <usize>h * rowBytes, wuv + <usize>j * rowBytes, latent));
    }
  }
}
