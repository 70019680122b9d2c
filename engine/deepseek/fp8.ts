// DeepSeek-V3's FP8 GEMM as a plain reference: activations quantized dynamically in 1×128 groups
// (scale amax/448), weights in 128×128 blocks (engine/formats/fp8.ts), and a GEMM that sums each
// 128-wide block in f32 and then applies both scales, the way DeepSeek's `fp8_gemm` kernel promotes
// partial sums.
import {
  E4M3_MAX,
  E4M3_VALUES,
  FP8_BLOCK,
  FP8_WEIGHT_BLOCK,
  encodeE4M3,
  type Fp8Weight,
} from '../formats/fp8';

type Vec = Float32Array | Float64Array;

export interface Fp8Activations {
  /** E4M3 codes [rows, cols]. */
  q: Uint8Array;
  /** One scale per 1×block group [rows, ceil(cols/block)]; value ≈ e4m3(q) · scale. */
  scale: Float32Array;
}

/** Dynamic per-token, per-128-channel quantization: scale = amax/448 (f32), code = e4m3(x / scale). */
export function quantizeActivationsFp8(
  x: Vec,
  rows: number,
  cols: number,
  block = FP8_BLOCK,
  out: Fp8Activations = {
    q: new Uint8Array(rows * cols),
    scale: new Float32Array(rows * Math.ceil(cols / block)),
  },
): Fp8Activations {
  const nb = Math.ceil(cols / block);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < nb; b++) {
      const c0 = r * cols + b * block,
        c1 = r * cols + Math.min(cols, (b + 1) * block);
      let amax = 0;
      for (let i = c0; i < c1; i++) amax = Math.max(amax, Math.abs(x[i]));
      const s = Math.fround(amax > 0 ? amax / E4M3_MAX : 1);
      out.scale[r * nb + b] = s;
      for (let i = c0; i < c1; i++) out.q[i] = encodeE4M3(Math.fround(x[i] / s));
    }
  }
  return out;
}

/**
 * out[m, n] = A[m, k] · B[n, k]ᵀ with A and B in E4M3. Each k-block's dot product is summed in f32
 * (products of two E4M3 values are exact in f32), then multiplied by A's per-token block scale and
 * B's per-128×128 block scale and added to an f32 accumulator.
 */
export function fp8Gemm(
  a: Fp8Activations,
  b: Fp8Weight,
  m: number,
  n: number,
  k: number,
  block: readonly [number, number] = FP8_WEIGHT_BLOCK,
  out: Float32Array = new Float32Array(m * n),
): Float32Array {
  const [br, bc] = block;
  const f = Math.fround,
    T = E4M3_VALUES;
  const nkb = Math.ceil(k / bc);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const bs = Math.floor(j / br) * nkb;
      let acc = 0;
      for (let kb = 0; kb < nkb; kb++) {
        let dot = 0;
        const k1 = Math.min(k, (kb + 1) * bc);
        for (let kk = kb * bc; kk < k1; kk++)
          dot = f(dot + T[a.q[i * k + kk]] * T[b.q[j * k + kk]]);
        acc = f(acc + f(f(dot * a.scale[i * nkb + kb]) * b.scaleInv[bs + kb]));
      }
      out[i * n + j] = acc;
    }
  }
  return out;
}
