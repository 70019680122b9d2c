// Q4_0 weights repacked at load for one i32 lane per row (as llama.cpp's repacked Q4_0 x8 layouts, our own
// arrangement): rows in groups of 8, and per group and 32-block
//   codes  128 bytes: for chunk c = 0..3, rows 0..3 then rows 4..7, 4 bytes each: bytes 4c..4c+3 of the row's
//          ggml block (low nibbles = elements 4c..4c+3, high nibbles = elements 16+4c..16+4c+3);
//   scales 8 f16 (the rows' d, in place of ggml's; widened exactly in the kernel, four rows per op).
// Codes and scales keep their byte size, so the repack runs in place (pack_q4_0x8: a group at a time through a
// small scratch of 8 · nb · 18 bytes) and a 128 MB isolate holds no second copy; rows must be a multiple of 8.
// A 16-byte load then holds 8 nibbles of each of 4 rows, and one product against 4 activation codes broadcast
// to every row leaves each row's partial sums in its own lane: no horizontal sums per row, and the scale
// work (convert, d_w · d_x, accumulate) is done for 4 rows per vector instruction. The activations are
// relaxed-q4.ts's int8 layout (quantizeI8: codes in natural order, f32 scale and -8·Σq per block).
//
// Arithmetic, the same in every kernel over this layout (relaxed, plain SIMD, scalar twin), so their outputs
// are bit-identical: per row and block the exact integer s = Σ n·q - 8·Σq, then acc = acc + f32(s) · (d_w · d_x)
// with acc starting at 0 and blocks in order. This is not matvec_q4_0's f32 order (it scales four partial
// sums per block), so the two differ by rounding; both are checked against a float64 reference.
import { f16ToF32, paddedCols, xqStride } from './quant-common';
import { quantizeI8 } from './relaxed-q4';

/**
 * Repacks ggml-order Q4_0 (codes w: rows × nb × 16 bytes, f16 scales d: rows × nb) into the q4x8 layout in
 * place, one group of 8 rows at a time through `scratch` (8 · nb · 18 bytes). rows % 8 == 0.
 */
export function pack_q4_0x8(w: usize, d: usize, rows: i32, cols: i32, scratch: usize): void {
  const bb: usize = 16; // code bytes per block: 4 chunks of 4 bytes per row, rows 0..3 then 4..7
  const nb = <usize>(paddedCols(cols) >> 5), groups = rows >> 3;
  const codeBytes = 8 * nb * bb, scaleBytes = 16 * nb, sd = scratch + codeBytes;
  for (let g = 0; g < groups; g++) {
    const cg = w + <usize>g * codeBytes, dg = d + <usize>g * scaleBytes;
    memory.copy(scratch, cg, codeBytes);
    memory.copy(sd, dg, scaleBytes);
    for (let kb: usize = 0; kb < nb; kb++) {
      const cb = cg + kb * 8 * bb;
      for (let i: usize = 0; i < 8; i++) {
        const src = scratch + (i * nb + kb) * bb, lane = ((i >> 2) << 4) + ((i & 3) << 2);
        for (let c: usize = 0; c < (bb >> 2); c++) store<u32>(cb + (c << 5) + lane, load<u32>(src + (c << 2)));
        store<u16>(dg + (kb << 4) + (i << 1), load<u16>(sd + ((i * nb + kb) << 1)));
      }
    }
  }
}

/**
 * f32 lanes · 2^-112 of f16 scales 0..3 (hi: 4..7) of a group-block's 8 (quant-common.ts's f16Raw): each f16
 * moved to the top half of its lane (one shuffle), shifted down 3 with its sign (exponent and mantissa land in
 * f32's fields, the sign smears over bits 30..28), and those three bits cleared.
 */
@inline export function f16x4Raw(h8: v128, hi: bool): v128 {
  const top = hi
    ? v128.shuffle<i16>(i16x8.splat(0), h8, 4, 12, 5, 13, 6, 14, 7, 15)
    : v128.shuffle<i16>(i16x8.splat(0), h8, 0, 8, 1, 9, 2, 10, 3, 11);
  return v128.and(i32x4.shr_s(top, 3), i32x4.splat(0x8fffffff));
}

/** The 4 rows' d_w of a group-block's scales at d (exact: f16ToF32). */
@inline export function rowScales(d: usize, hi: bool): v128 {
  return f32x4.mul(f16x4Raw(v128.load(d), hi), f32x4.splat(reinterpret<f32>(0x77800000))); // 2^112
}

/** i16 lanes of 4 rows' products for one chunk pair (plain SIMD): lo · x[4c..], hi · x[16+4c..], rows 0,1 | 2,3. */
@inline function halfPlain(w: usize, x: usize): v128 {
  const m = i8x16.splat(15);
  let l = i16x8.splat(0), h = l;
  for (let c: usize = 0; c < 4; c++) {
    const v = v128.load(w + (c << 5));
    const lo = v128.and(v, m), hi = v128.and(i16x8.shr_u(v, 4), m);
    const xl = v128.load32_splat(x + (c << 2)), xh = v128.load32_splat(x + 16 + (c << 2));
    // |lane| ≤ 8 · 15 · 127: i16 holds the block's sum of each (row, byte) product.
    l = i16x8.add(l, i16x8.add(i16x8.extmul_low_i8x16_s(lo, xl), i16x8.extmul_low_i8x16_s(hi, xh)));
    h = i16x8.add(h, i16x8.add(i16x8.extmul_high_i8x16_s(lo, xl), i16x8.extmul_high_i8x16_s(hi, xh)));
  }
  const pl = i32x4.extadd_pairwise_i16x8_s(l), ph = i32x4.extadd_pairwise_i16x8_s(h);
  return i32x4.add(v128.shuffle<i32>(pl, ph, 0, 2, 4, 6), v128.shuffle<i32>(pl, ph, 1, 3, 5, 7));
}

/** One row quad's block closed: acc + f32(s + c) · (d_w · d_x), s its exact Σ n·q, c the block's -8·Σq. */
@inline export function closeRows(acc: v128, s: v128, c: v128, dw: v128, dx: v128): v128 {
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(i32x4.add(s, c)), f32x4.mul(dw, dx)));
}

/** Stores a group's 8 results (a: rows 0..3, b: rows 4..7). */
@inline export function storeGroup(o: usize, a: v128, b: v128): void {
  v128.store(o, a);
  v128.store(o, b, 16);
}

/** One group of 8 rows · one quantized token at xq (relaxed-q4 layout, k codes, nb blocks) into o. */
@inline function groupPlain(o: usize, w: usize, d: usize, xq: usize, k: usize, nb: usize): void {
  const scales = xq + k, corr = scales + (nb << 3);
  let a = f32x4.splat(0), b = a;
  for (let kb: usize = 0; kb < nb; kb++) {
    const xb = xq + (kb << 5);
    const c = v128.load32_splat(corr + (kb << 2)), dx = v128.load32_splat(scales + (kb << 2));
    a = closeRows(a, halfPlain(w, xb), c, rowScales(d, false), dx);
    b = closeRows(b, halfPlain(w + 16, xb), c, rowScales(d, true), dx);
    w += 128; d += 16;
  }
  storeGroup(o, a, b);
}

/** out[n, rows] = x[n, cols] · Wᵀ for W in the q4x8 layout; xq: scratch of n · xqStride(cols) bytes. */
export function matmul_q4_0x8(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32, n: i32): void {
  const k = <usize>paddedCols(cols), nb = k >> 5, stride = xqStride(cols);
  for (let t = 0; t < n; t++) quantizeI8(xq + <usize>t * stride, x + (<usize>t * <usize>cols << 2), cols);
  const groups = rows >> 3;
  // Group-major: a group's codes (nb · 128 bytes) stay in L1 while every token passes over them.
  for (let g = 0; g < groups; g++) {
    const wg = w + ((<usize>g * nb) << 7), dg = d + ((<usize>g * nb) << 4);
    for (let t = 0; t < n; t++) {
      groupPlain(out + ((<usize>t * <usize>rows + (<usize>g << 3)) << 2), wg, dg, xq + <usize>t * stride, k, nb);
    }
  }
}

export function matvec_q4_0x8(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32): void {
  matmul_q4_0x8(out, w, d, x, xq, rows, cols, 1);
}

/** quantizeI8's codes, scales and -8·Σq, in scalar code (the same d, 1/d and rounding). */
function quantizeI8Scalar(xq: usize, x: usize, cols: i32): void {
  const k = paddedCols(cols), nb = k >> 5;
  const scales = xq + <usize>k, corr = scales + (<usize>nb << 3);
  for (let b = 0; b < nb; b++) {
    const c0 = b << 5, len = min(cols, c0 + 32) - c0;
    let amax: f32 = 0;
    for (let c = 0; c < len; c++) amax = Mathf.max(amax, Mathf.abs(load<f32>(x + (<usize>(c0 + c) << 2))));
    const d: f32 = amax / 127;
    const id: f32 = d != 0 ? <f32>1 / d : 0;
    let total = 0;
    for (let j = 0; j < 32; j++) {
      const q = <i32>nearest<f32>((j < len ? load<f32>(x + (<usize>(c0 + j) << 2)) : 0) * id);
      store<i8>(xq + <usize>(c0 + j), <i8>q);
      total += q;
    }
    store<f32>(scales + (<usize>b << 2), d);
    store<i32>(corr + (<usize>b << 2), -8 * total);
  }
}

/** Scalar twin of matmul_q4_0x8 (the same layout and arithmetic, one row and block at a time). */
export function matmul_q4_0x8_scalar(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32, n: i32): void {
  const k = <usize>paddedCols(cols), nb = k >> 5, stride = xqStride(cols);
  for (let t = 0; t < n; t++) {
    const qt = xq + <usize>t * stride;
    quantizeI8Scalar(qt, x + (<usize>t * <usize>cols << 2), cols);
    const scales = qt + k, corr = scales + (nb << 3);
    for (let r = 0; r < rows; r++) {
      const g = <usize>(r >> 3), i = <usize>(r & 7), h = i >> 2, lane = (i & 3) << 2;
      let acc: f32 = 0;
      for (let kb: usize = 0; kb < nb; kb++) {
        const cb = w + ((g * nb + kb) << 7);
        let s = load<i32>(corr + (kb << 2));
        for (let c: usize = 0; c < 4; c++) {
          for (let j: usize = 0; j < 4; j++) {
            const byte = <i32>load<u8>(cb + (c << 5) + (h << 4) + lane + j);
            s += (byte & 15) * <i32>load<i8>(qt + (kb << 5) + (c << 2) + j);
            s += (byte >> 4) * <i32>load<i8>(qt + (kb << 5) + 16 + (c << 2) + j);
          }
        }
        acc = acc + <f32>s * (f16ToF32(load<u16>(d + ((g * nb + kb) << 4) + (i << 1))) * load<f32>(scales + (kb << 2)));
      }
      store<f32>(out + ((<usize>t * <usize>rows + <usize>r) << 2), acc);
    }
  }
}

export function matvec_q4_0x8_scalar(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32): void {
  matmul_q4_0x8_scalar(out, w, d, x, xq, rows, cols, 1);
}
