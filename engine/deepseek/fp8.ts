// FP8 E4M3 (the "fn" variant, torch.float8_e4m3fn) and DeepSeek-V3's block scaling, as plain reference
// functions over typed arrays: weights in 128×128 blocks with one f32 `weight_scale_inv` each,
// activations in 1×128 blocks with scale amax/448, and a GEMM that sums each 128-wide block in f32 and
// then applies both scales, the way DeepSeek's `fp8_gemm` kernel promotes partial sums.
//
// E4M3fn: 1 sign, 4 exponent (bias 7), 3 mantissa bits. No infinities; only S.1111.111 (0x7F, 0xFF)
// is NaN, so the largest finite value is 1.75·2^8 = 448. Exponent 0 holds subnormals m/8·2^-6.

export const E4M3_MAX = 448;
export const E4M3_NAN = 0x7f;

/** Decoded value of every code (NaN for 0x7F and 0xFF). */
export const E4M3_VALUES: Float32Array = (() => {
  const t = new Float32Array(256);
  for (let c = 0; c < 256; c++) {
    const e = (c >> 3) & 0xf;
    const m = c & 7;
    const mag = e === 0 ? m * 2 ** -9 : (1 + m / 8) * 2 ** (e - 7);
    t[c] = e === 15 && m === 7 ? NaN : c & 0x80 ? -mag : mag;
  }
  return t;
})();

export function decodeE4M3(code: number): number {
  return E4M3_VALUES[code & 0xff];
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
}

/** Nearest E4M3 code, ties to even; saturates to ±448 (±Infinity too); NaN → 0x7F. Keeps the sign of -0. */
export function encodeE4M3(x: number): number {
  if (Number.isNaN(x)) return E4M3_NAN;
  const sign = x < 0 || Object.is(x, -0) ? 0x80 : 0;
  const a = Math.abs(x);
  if (a >= E4M3_MAX) return sign | 0x7e;
  // Below the smallest normal (2^-6) the grid is uniform, step 2^-9; rounding up to 8 lands on code 0x08 = 2^-6.
  if (a < 2 ** -6) return sign | roundHalfEven(a * 512);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a)
    e--; // log2 may be off by one ulp near powers of two
  else if (2 ** (e + 1) <= a) e++;
  let m = roundHalfEven((a / 2 ** e - 1) * 8);
  if (m === 8) {
    m = 0;
    e++;
  }
  return sign | Math.min(((e + 7) << 3) | m, 0x7e);
}

type Vec = Float32Array | Float64Array;

export interface Fp8Weight {
  /** E4M3 codes, row-major [rows, cols]. */
  q: Uint8Array;
  /** Dequantization scale per block, row-major [ceil(rows/blockRows), ceil(cols/blockCols)]. */
  scaleInv: Float32Array;
}

/**
 * Quantizes w[rows, cols] per block: scale_inv = amax/448 (f32), code = e4m3(w / scale_inv).
 * Edge blocks are ragged; DeepSeek pads them with zeros, which leaves amax unchanged.
 */
export function quantizeWeightFp8(
  w: Vec,
  rows: number,
  cols: number,
  block: readonly [number, number] = [128, 128],
): Fp8Weight {
  const [br, bc] = block;
  const sr = Math.ceil(rows / br),
    sc = Math.ceil(cols / bc);
  const q = new Uint8Array(rows * cols);
  const scaleInv = new Float32Array(sr * sc);
  for (let bi = 0; bi < sr; bi++) {
    for (let bj = 0; bj < sc; bj++) {
      const r1 = Math.min(rows, (bi + 1) * br),
        c1 = Math.min(cols, (bj + 1) * bc);
      let amax = 0;
      for (let r = bi * br; r < r1; r++)
        for (let c = bj * bc; c < c1; c++) amax = Math.max(amax, Math.abs(w[r * cols + c]));
      const s = Math.fround(amax > 0 ? amax / E4M3_MAX : 1);
      scaleInv[bi * sc + bj] = s;
      for (let r = bi * br; r < r1; r++)
        for (let c = bj * bc; c < c1; c++)
          q[r * cols + c] = encodeE4M3(Math.fround(w[r * cols + c] / s));
    }
  }
  return { q, scaleInv };
}

/** w[r, c] = e4m3(q[r, c]) · scale_inv[r / blockRows, c / blockCols], in f32. */
export function dequantizeWeightFp8(
  weight: Fp8Weight,
  rows: number,
  cols: number,
  block: readonly [number, number] = [128, 128],
  out: Float32Array = new Float32Array(rows * cols),
): Float32Array {
  const [br, bc] = block;
  const sc = Math.ceil(cols / bc);
  for (let r = 0; r < rows; r++) {
    const srow = Math.floor(r / br) * sc;
    for (let c = 0; c < cols; c++)
      out[r * cols + c] =
        E4M3_VALUES[weight.q[r * cols + c]] * weight.scaleInv[srow + Math.floor(c / bc)];
  }
  return out;
}

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
  block = 128,
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
  block: readonly [number, number] = [128, 128],
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
