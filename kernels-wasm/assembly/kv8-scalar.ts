// Scalar twins of the int8 KV cache kernels (simd-kv8.ts): plain loops over the same layout.
// quantize_kv8_scalar does per value exactly what the SIMD kernel does (bit-identical); the attention
// twin quantizes q to i16 the same way and sums V in order, so it agrees with attention_kv8 to f32 rounding.
import { softmax_scalar } from './scalar';

export function quantize_kv8_scalar(codes: usize, scales: usize, x: usize, groups: i32, group: i32): void {
  for (let g = 0; g < groups; g++) {
    const xg = x + ((<usize>g * <usize>group) << 2), cg = codes + <usize>g * <usize>group;
    let amax: f32 = 0;
    for (let j = 0; j < group; j++) amax = max(amax, abs(load<f32>(xg + (<usize>j << 2))));
    store<f32>(scales + (<usize>g << 2), amax / 127);
    const inv: f32 = amax > 0 ? <f32>127 / amax : 0;
    for (let j = 0; j < group; j++) {
      const c = min(127, max(-127, <i32>nearest<f32>(load<f32>(xg + (<usize>j << 2)) * inv)));
      store<i8>(cg + <usize>j, <i8>c);
    }
  }
}

/** One head of q as i32 codes (static data: the host's arena starts above it). */
const Q16 = memory.data(512 * 4, 16);

export function attention_kv8_scalar(
  out: usize, q: usize, kCodes: usize, kScales: usize, vCodes: usize, vScales: usize, att: usize,
  nHeads: i32, nKvHeads: i32, headDim: i32, nPos: i32,
): void {
  const kvDim = nKvHeads * headDim;
  const group = nHeads / nKvHeads;
  const root = Mathf.sqrt(<f32>headDim);
  const qi = Q16; // headDim ≤ 512, as attention_kv8 requires
  for (let h = 0; h < nHeads; h++) {
    const kvh = h / group;
    const qh = q + (<usize>(h * headDim) << 2);
    const ah = att + (<usize>(h * nPos) << 2);
    // q's head in i16 codes, as attention_kv8 stages it
    let amax: f32 = 0;
    for (let d = 0; d < headDim; d++) amax = max(amax, abs(load<f32>(qh + (<usize>d << 2))));
    const qScale: f32 = amax / 32767, inv: f32 = amax > 0 ? <f32>32767 / amax : 0;
    for (let d = 0; d < headDim; d++) store<i32>(qi + (<usize>d << 2), <i32>nearest<f32>(load<f32>(qh + (<usize>d << 2)) * inv));
    for (let t = 0; t < nPos; t++) {
      const kt = kCodes + <usize>(t * kvDim + kvh * headDim);
      let dot: i32 = 0;
      for (let d = 0; d < headDim; d++) dot += load<i32>(qi + (<usize>d << 2)) * <i32>load<i8>(kt + <usize>d);
      const score = (<f32>dot * qScale) * load<f32>(kScales + (<usize>(t * nKvHeads + kvh) << 2));
      store<f32>(ah + (<usize>t << 2), score / root);
    }
    softmax_scalar(ah, nPos);
    const oh = out + (<usize>(h * headDim) << 2);
    memory.fill(oh, 0, <usize>headDim << 2);
    for (let t = 0; t < nPos; t++) {
      const vt = vCodes + <usize>(t * kvDim + kvh * headDim);
      const a = load<f32>(ah + (<usize>t << 2)) * load<f32>(vScales + (<usize>(t * nKvHeads + kvh) << 2));
      for (let d = 0; d < headDim; d++) {
        const p = oh + (<usize>d << 2);
        store<f32>(p, load<f32>(p) + a * <f32>load<i8>(vt + <usize>d));
      }
    }
  }
}
