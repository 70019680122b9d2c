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
  return f16Raw(h) * reinterpret<f32>(0x77800000); // 2^112
}

/** f16 bits to f32 · 2^-112: the exponent and mantissa shifted into f32's fields (a multiply restores it). */
@inline export function f16Raw(h: u32): f32 {
  return reinterpret<f32>(((h & 0x7fff) << 13) | ((h & 0x8000) << 16));
}

/**
 * Every f16 bit pattern's value · 2^-8 (256 KiB, filled when the module is instantiated; exact, as f16 values are
 * far from f32's range ends): a block scale's decode in the quantized inner loops is one load instead of seven
 * integer ops and a move to a vector register, and the 2^-8 is the one Q8_0's 256× split needs (simd-quant.ts).
 * Those loops are bound by instruction count (bench/RESULTS.md, 2026-11-28).
 */
const F16_DIV256 = memory.data(65536 << 2, 16);
for (let h: u32 = 0; h < 65536; h++) store<f32>(F16_DIV256 + (<usize>h << 2), f16Raw(h) * reinterpret<f32>(0x73800000)); // 2^104

/** f16ToF32(h) · 2^-8, by table. */
@inline export function f16Div256At(h: u32): f32 {
  return load<f32>(F16_DIV256 + (<usize>h << 2));
}

/** Σ of the four i32 lanes. */
@inline export function isum(v: v128): i32 {
  return (i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1)) + (i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3));
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

/** One 32-block of activations x[0..len) (zero-padded past len) into qb, its scale and its code sum. */
@inline function quantizeBlock(qb: usize, x: usize, len: i32, scale: usize, sum: usize): void {
  let amax: f32 = 0;
  for (let c = 0; c < len; c++) amax = Mathf.max(amax, Mathf.abs(load<f32>(x + (<usize>c << 2))));
  const d: f32 = amax / 127;
  const id: f32 = d != 0 ? <f32>1 / d : 0;
  let total = 0;
  for (let j = 0; j < 32; j++) {
    const v: f32 = j < len ? load<f32>(x + (<usize>j << 2)) : 0;
    const q = <i32>nearest<f32>(v * id);
    store<i16>(qb + (<usize>xqPos(j) << 1), <i16>q);
    total += q;
  }
  store<f32>(scale, d);
  store<i32>(sum, total);
}

/**
 * Quantizes n tokens x[n, cols] (f32, `cols` apart) into xq (xqStride(cols) apart): per 32-block
 * d = amax / 127, q = nearest(x · (1/d)), ties to even. The scalar twin of quantizeActivationsSimd.
 */
export function quantizeActivations(xq: usize, x: usize, cols: i32, n: i32): void {
  const nb = paddedCols(cols) >> 5;
  const stride = xqStride(cols);
  for (let t = 0; t < n; t++) {
    const xt = x + (<usize>t * <usize>cols << 2);
    const qt = xq + <usize>t * stride;
    const scales = qt + (<usize>nb << 6), sums = scales + (<usize>nb << 2);
    for (let b = 0; b < nb; b++) {
      const c0 = b << 5;
      quantizeBlock(qt + (<usize>b << 6), xt + (<usize>c0 << 2), min(cols, c0 + 32) - c0, scales + (<usize>b << 2), sums + (<usize>b << 2));
    }
  }
}

/** 1.5 · 2^23: v + MAGIC rounds v to an integer (ties to even, as nearest does) in the low mantissa bits, |v| < 2^22. */
export const MAGIC: f32 = 12582912;

/** nearest(v) as i32x4, for |v| < 2^22: one add and one integer subtract instead of round + a saturating convert. */
@inline export function roundI32(v: v128): v128 {
  return i32x4.sub(f32x4.add(v, f32x4.splat(MAGIC)), i32x4.splat(0x4b400000));
}

/**
 * quantizeActivations with f32x4 for whole blocks: the same d, 1/d, products and ties-to-even rounding, so the
 * same bytes (tests/kernels-wasm/quant.test.ts compares them); a partial last block goes through the scalar code.
 * Codes of elements 4i..4i+3 sit in one i32x4; lanes (0, 2) of two such vectors are elements 8i, 8i+2, 8i+4,
 * 8i+6 — one shuffle each, then a narrow to i16 lays out the evens (odds likewise) as xqPos wants.
 */
export function quantizeActivationsSimd(xq: usize, x: usize, cols: i32, n: i32): void {
  const nb = paddedCols(cols) >> 5, full = cols >> 5;
  const stride = xqStride(cols);
  for (let t = 0; t < n; t++) {
    const xt = x + (<usize>t * <usize>cols << 2);
    const qt = xq + <usize>t * stride;
    const scales = qt + (<usize>nb << 6), sums = scales + (<usize>nb << 2);
    for (let b = 0; b < full; b++) {
      const p = xt + (<usize>b << 7), qb = qt + (<usize>b << 6);
      const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
      const v4 = v128.load(p, 64), v5 = v128.load(p, 80), v6 = v128.load(p, 96), v7 = v128.load(p, 112);
      let m = f32x4.max(f32x4.max(f32x4.max(f32x4.abs(v0), f32x4.abs(v1)), f32x4.max(f32x4.abs(v2), f32x4.abs(v3))),
        f32x4.max(f32x4.max(f32x4.abs(v4), f32x4.abs(v5)), f32x4.max(f32x4.abs(v6), f32x4.abs(v7))));
      m = f32x4.max(m, v128.shuffle<f32>(m, m, 2, 3, 0, 1));
      const amax = Mathf.max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1));
      const d: f32 = amax / 127;
      const idv = f32x4.splat(d != 0 ? <f32>1 / d : 0);
      const q0 = roundI32(f32x4.mul(v0, idv)), q1 = roundI32(f32x4.mul(v1, idv)), q2 = roundI32(f32x4.mul(v2, idv)), q3 = roundI32(f32x4.mul(v3, idv));
      const q4 = roundI32(f32x4.mul(v4, idv)), q5 = roundI32(f32x4.mul(v5, idv)), q6 = roundI32(f32x4.mul(v6, idv)), q7 = roundI32(f32x4.mul(v7, idv));
      v128.store(qb, i16x8.narrow_i32x4_s(v128.shuffle<i32>(q0, q1, 0, 2, 4, 6), v128.shuffle<i32>(q2, q3, 0, 2, 4, 6)));
      v128.store(qb, i16x8.narrow_i32x4_s(v128.shuffle<i32>(q0, q1, 1, 3, 5, 7), v128.shuffle<i32>(q2, q3, 1, 3, 5, 7)), 16);
      v128.store(qb, i16x8.narrow_i32x4_s(v128.shuffle<i32>(q4, q5, 0, 2, 4, 6), v128.shuffle<i32>(q6, q7, 0, 2, 4, 6)), 32);
      v128.store(qb, i16x8.narrow_i32x4_s(v128.shuffle<i32>(q4, q5, 1, 3, 5, 7), v128.shuffle<i32>(q6, q7, 1, 3, 5, 7)), 48);
      store<f32>(scales + (<usize>b << 2), d);
      store<i32>(sums + (<usize>b << 2), isum(i32x4.add(i32x4.add(i32x4.add(q0, q1), i32x4.add(q2, q3)), i32x4.add(i32x4.add(q4, q5), i32x4.add(q6, q7)))));
    }
    if (full < nb) {
      const c0 = full << 5;
      quantizeBlock(qt + (<usize>full << 6), xt + (<usize>c0 << 2), cols - c0, scales + (<usize>full << 2), sums + (<usize>full << 2));
    }
  }
}
