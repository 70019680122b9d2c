// FP8 E4M3 (the "fn" variant, torch.float8_e4m3fn), the one codec every room uses, and the block-scaled
// weight format DeepSeek-V3 checkpoints ship (and `model convert --quant fp8` writes): `W.weight` as
// E4M3 codes in 128×128 blocks, each with one f32 `W.weight_scale_inv` = amax/448. The activation
// quantization and the GEMM that consume it are DeepSeek's reference (engine/deepseek/fp8.ts).
//
// E4M3fn: 1 sign, 4 exponent (bias 7), 3 mantissa bits. No infinities; only S.1111.111 (0x7F, 0xFF)
// is NaN, so the largest finite value is 1.75·2^8 = 448. Exponent 0 holds subnormals m/8·2^-6.

export const E4M3_MAX = 448;
export const E4M3_NAN = 0x7f;
/** The edge of a weight block (DeepSeek-V3's weight_block_size) and of an activation group. */
export const FP8_BLOCK = 128;
export const FP8_WEIGHT_BLOCK: readonly [number, number] = [FP8_BLOCK, FP8_BLOCK];

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

/** The checkpoint tensor holding W's block scales: `<W>.weight_scale_inv`. */
export const fp8ScaleName = (weightName: string): string => `${weightName}_scale_inv`;

/** Shape of W[rows, cols]'s block scales: [ceil(rows/blockRows), ceil(cols/blockCols)]. */
export const fp8ScaleShape = (
  rows: number,
  cols: number,
  block: readonly [number, number] = FP8_WEIGHT_BLOCK,
): [number, number] => [Math.ceil(rows / block[0]), Math.ceil(cols / block[1])];

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
  block: readonly [number, number] = FP8_WEIGHT_BLOCK,
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
  block: readonly [number, number] = FP8_WEIGHT_BLOCK,
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
