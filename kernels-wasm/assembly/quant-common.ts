// Shared by the quantized kernels: the f16 and E4M3 scale/code decodes, and the int8 quantization of
// activation vectors (Q8_0 style, one f32 scale per 32 values) into the lane order the dot products want.
//
// Activation layout `xq` of one token with K = ceil(cols/32)*32 (zero-padded), in bytes:
//   [0, 2K)          i16 codes, each 32-block permuted: evens of 0..15, odds of 0..15, evens of 16..31, odds of 16..31
//   [2K, 2K + 4nb)   f32 scale per block (amax / 127)
//   [2K + 4nb, +4nb) i32 sum of the block's codes (Q4_0's "- 8" folded out of the inner loop)
// The permutation is what both weight formats produce for free: an i16 lane of 16 bytes holds an even and
// an odd element (Q8_0: shl/shr_s split them; Q4_0: the low nibbles are elements 0..15, the high 16..31).

export const QBLOCK = 32;

/** Codes per token padded to whole blocks. */
@inline export function paddedCols(cols: i32): i32 {
  return (cols + 31) & ~31;
}

/** Bytes of one token's quantized activations. */
@inline export function xqStride(cols: i32): usize {
  const k = <usize>paddedCols(cols);
  return (k << 1) + (k >> 2);
}

/** Position of element j (0..31) inside its permuted 32-block. */
@inline export function xqPos(j: i32): i32 {
  return (j & 16) | ((j & 1) << 3) | ((j & 15) >> 1);
}

/** f16 bits to f32, exact for normals and subnormals (the quantizers never write inf or NaN scales). */
@inline export function f16ToF32(h: u32): f32 {
  // f16 exponent and mantissa shifted into f32's fields give the value times 2^-112.
  return reinterpret<f32>(((h & 0x7fff) << 13) | ((h & 0x8000) << 16)) * reinterpret<f32>(0x77800000); // 2^112
}

/**
 * E4M3 code to f32 bits of (value · 2^-120): sign to bit 31, exponent and mantissa to bits 20..26 — f32's
 * fields, with E4M3's bias 7 instead of 127 (subnormal codes become f32 subnormals, still exact). One
 * multiply by scale · 2^120 then yields e4m3 · scale rounded once, the dequantized weight exactly.
 * Codes 0x7F/0xFF (NaN) decode as ±480; no quantizer writes them for a finite weight.
 */
@inline export function e4m3Bits(code: i32): u32 {
  return (<u32>code << 24 >> 4 & 0x07f00000) | (<u32>code << 24 & 0x80000000);
}

/** 2^120 as f32, the rescale of e4m3Bits. */
export const E4M3_RESCALE: f32 = reinterpret<f32>(0x7b800000);

/**
 * Quantizes n tokens x[n, cols] (f32, `cols` apart) into xq (xqStride(cols) apart): per 32-block
 * d = amax / 127, q = nearest(x · (1/d)), ties to even. Plain code: it runs once per token per matvec.
 */
export function quantizeActivations(xq: usize, x: usize, cols: i32, n: i32): void {
  const nb = paddedCols(cols) >> 5;
  const stride = xqStride(cols);
  for (let t = 0; t < n; t++) {
    const xt = x + (<usize>t * <usize>cols << 2);
    const qt = xq + <usize>t * stride;
    const scales = qt + (<usize>nb << 6), sums = scales + (<usize>nb << 2);
    for (let b = 0; b < nb; b++) {
      const c0 = b << 5, c1 = min(cols, c0 + 32);
      let amax: f32 = 0;
      for (let c = c0; c < c1; c++) amax = Mathf.max(amax, Mathf.abs(load<f32>(xt + (<usize>c << 2))));
      const d: f32 = amax / 127;
      const id: f32 = d != 0 ? <f32>1 / d : 0;
      let sum = 0;
      const qb = qt + (<usize>b << 6);
      for (let j = 0; j < 32; j++) {
        const v: f32 = c0 + j < c1 ? load<f32>(xt + (<usize>(c0 + j) << 2)) : 0;
        const q = <i32>nearest<f32>(v * id);
        store<i16>(qb + (<usize>xqPos(j) << 1), <i16>q);
        sum += q;
      }
      store<f32>(scales + (<usize>b << 2), d);
      store<i32>(sums + (<usize>b << 2), sum);
    }
  }
}
