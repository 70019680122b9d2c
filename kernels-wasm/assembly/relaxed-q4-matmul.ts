// Batched Q4_0 matmul on relaxed SIMD (kernels-relaxed.wasm only; prefill): simd-quant.ts's tiles and tails
// (2 rows × 16/8/4 tokens, then 1 row × 2 tokens, then single dots, over the same token chunks) with each
// block's Σ n·q taken by i16x8.relaxed_dot_i8x16_i7x16_s on the nibbles (relaxed-q4.ts says why that is exact).
// Every path produces the same i32 partials as its simd-quant.ts counterpart and scales and sums them in the
// same f32 order, so the output is bit-identical to matmul_q4_0. Per token and block pair the 2×T tile does
// 2 loads, 4 pmaddubsw, 3 paddw, 2 unpacks and 1 pmaddwd where dot2xT does 4 loads, 8 pmaddwd, 6 paddd and
// 2 shuffles: the two rows' i16 sums are folded before the one widening (|lane| ≤ 8 · 15 · 127 fits i16).
import { f16Div256At, f16ToF32, paddedCols, xqStride } from './quant-common';
import { dotRowQ4, quantizeI8 } from './relaxed-q4';
import { hsum } from './simd-math';

/** i16 pair sums of one row's block (lo/hi: its nibble halves) against one token's 32 codes at x. */
@inline function rowSums(lo: v128, hi: v128, x: usize): v128 {
  return i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x), lo), i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x, 16), hi));
}

/** Tile accumulators: up to 16 tokens' [r0, r0, r1, r1] partial sums. */
const TILE_ACC = memory.data(256, 16);

/** Token t of the tile: acc += ([r0 lanes 0+2, 1+3, r1 lanes 0+2, 1+3] - 8·Σq on lanes 0, 2) · [dw0, dw0, dw1, dw1] · d_x. */
@inline function tokenAcc(t: usize, a0: v128, a1: v128, b0: v128, b1: v128, xt: usize, kb: usize, k: usize, nb: usize, dwv: v128): void {
  // x loaded once for both rows (V8 does not merge two loads of one address).
  const x0 = v128.load(xt + (kb << 5)), x1 = v128.load(xt + (kb << 5), 16);
  const sa = i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(x0, a0), i16x8.relaxed_dot_i8x16_i7x16_s(x1, a1));
  const sb = i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(x0, b0), i16x8.relaxed_dot_i8x16_i7x16_s(x1, b1));
  const fold = i16x8.add(v128.shuffle<i64>(sa, sb, 0, 2), v128.shuffle<i64>(sa, sb, 1, 3));
  const sc = xt + k + (kb << 2);
  const s = i32x4.add(i32x4.dot_i16x8_s(fold, i16x8.splat(1)), i64x2.splat(<i64>load<u32>(sc + (nb << 3))));
  const acc = TILE_ACC + (t << 4);
  v128.store(acc, f32x4.add(v128.load(acc), f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.mul(dwv, v128.load32_splat(sc)))));
}

/** Two rows · `tokens` tokens (16, 8 or 4, constant per call site), as simd-quant.ts's dot2xT. */
@inline function tile(out: usize, outStride: usize, r0: usize, r1: usize, d0: usize, d1: usize, xq: usize, stride: usize, k: usize, nb: usize, tokens: usize): void {
  for (let t: usize = 0; t < tokens; t++) v128.store(TILE_ACC + (t << 4), f32x4.splat(0));
  const m = i8x16.splat(15);
  for (let kb: usize = 0; kb < nb; kb++) {
    const v = v128.load(r0), u = v128.load(r1);
    const a0 = v128.and(v, m), a1 = v128.and(i16x8.shr_u(v, 4), m);
    const b0 = v128.and(u, m), b1 = v128.and(i16x8.shr_u(u, 4), m);
    const dw0 = f16Div256At(load<u16>(d0)) * 256, dw1 = f16Div256At(load<u16>(d1)) * 256;
    const dwv = f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(dw0), 2, dw1), 3, dw1);
    r0 += 16; r1 += 16; d0 += 2; d1 += 2;
    // Unrolled (tokens is a constant): each token's scratch slot and activation offset fold into its code.
    tokenAcc(0, a0, a1, b0, b1, xq, kb, k, nb, dwv);
    tokenAcc(1, a0, a1, b0, b1, xq + stride, kb, k, nb, dwv);
    tokenAcc(2, a0, a1, b0, b1, xq + 2 * stride, kb, k, nb, dwv);
    tokenAcc(3, a0, a1, b0, b1, xq + 3 * stride, kb, k, nb, dwv);
    if (tokens >= 8) {
      tokenAcc(4, a0, a1, b0, b1, xq + 4 * stride, kb, k, nb, dwv);
      tokenAcc(5, a0, a1, b0, b1, xq + 5 * stride, kb, k, nb, dwv);
      tokenAcc(6, a0, a1, b0, b1, xq + 6 * stride, kb, k, nb, dwv);
      tokenAcc(7, a0, a1, b0, b1, xq + 7 * stride, kb, k, nb, dwv);
    }
    if (tokens >= 16) {
      tokenAcc(8, a0, a1, b0, b1, xq + 8 * stride, kb, k, nb, dwv);
      tokenAcc(9, a0, a1, b0, b1, xq + 9 * stride, kb, k, nb, dwv);
      tokenAcc(10, a0, a1, b0, b1, xq + 10 * stride, kb, k, nb, dwv);
      tokenAcc(11, a0, a1, b0, b1, xq + 11 * stride, kb, k, nb, dwv);
      tokenAcc(12, a0, a1, b0, b1, xq + 12 * stride, kb, k, nb, dwv);
      tokenAcc(13, a0, a1, b0, b1, xq + 13 * stride, kb, k, nb, dwv);
      tokenAcc(14, a0, a1, b0, b1, xq + 14 * stride, kb, k, nb, dwv);
      tokenAcc(15, a0, a1, b0, b1, xq + 15 * stride, kb, k, nb, dwv);
    }
  }
  for (let t: usize = 0; t < tokens; t++) {
    const c = v128.load(TILE_ACC + (t << 4)), o = out + t * outStride;
    store<f32>(o, f32x4.extract_lane(c, 0) + f32x4.extract_lane(c, 1));
    store<f32>(o, f32x4.extract_lane(c, 2) + f32x4.extract_lane(c, 3), 4);
  }
}

/** One row · two tokens, one accumulator each (simd-quant.ts's dotRowX2: 1× sums, -8·Σq on lane 0). */
@inline function dotRowX2(outA: usize, outB: usize, row: usize, d: usize, xa: usize, xb: usize, k: usize, nb: usize): void {
  let a = f32x4.splat(0), b = a;
  const m = i8x16.splat(15), one = i16x8.splat(1);
  for (let kb: usize = 0; kb < nb; kb++) {
    const v = v128.load(row + (kb << 4));
    const lo = v128.and(v, m), hi = v128.and(i16x8.shr_u(v, 4), m);
    const ca = xa + k + ((nb + nb + kb) << 2), cb = xb + k + ((nb + nb + kb) << 2);
    const ia = i32x4.add(i32x4.dot_i16x8_s(rowSums(lo, hi, xa + (kb << 5)), one), v128.load32_zero(ca));
    const ib = i32x4.add(i32x4.dot_i16x8_s(rowSums(lo, hi, xb + (kb << 5)), one), v128.load32_zero(cb));
    const dw = f16ToF32(load<u16>(d + (kb << 1)));
    a = f32x4.add(a, f32x4.mul(f32x4.convert_i32x4_s(ia), f32x4.splat(dw * load<f32>(xa + k + (kb << 2)))));
    b = f32x4.add(b, f32x4.mul(f32x4.convert_i32x4_s(ib), f32x4.splat(dw * load<f32>(xb + k + (kb << 2)))));
  }
  store<f32>(outA, hsum(a));
  store<f32>(outB, hsum(b));
}

/** Rows [r, r + count) (1 or 2) · tokens [t0, tEnd), by the tiles and tails simd-quant.ts's matmulQuant takes. */
@inline function rowsTokens(out: usize, w: usize, d: usize, xq: usize, r: i32, count: i32, t0: i32, tEnd: i32, rows: i32, k: usize, nb: usize): void {
  const rowBytes = k >> 1, dBytes = nb << 1, stride = xqStride(<i32>k), outStride = <usize>rows << 2;
  const row = w + <usize>r * rowBytes, dr = d + <usize>r * dBytes, o = out + (<usize>r << 2);
  let t = t0;
  if (count == 2) {
    for (; t + 16 <= tEnd; t += 16) tile(o + <usize>t * outStride, outStride, row, row + rowBytes, dr, dr + dBytes, xq + <usize>t * stride, stride, k, nb, 16);
    if (t + 8 <= tEnd) { tile(o + <usize>t * outStride, outStride, row, row + rowBytes, dr, dr + dBytes, xq + <usize>t * stride, stride, k, nb, 8); t += 8; }
    if (t + 4 <= tEnd) { tile(o + <usize>t * outStride, outStride, row, row + rowBytes, dr, dr + dBytes, xq + <usize>t * stride, stride, k, nb, 4); t += 4; }
  }
  for (; t + 2 <= tEnd; t += 2) {
    const oa = o + <usize>t * outStride, xa = xq + <usize>t * stride;
    for (let i = 0; i < count; i++) dotRowX2(oa + (<usize>i << 2), oa + outStride + (<usize>i << 2), row + <usize>i * rowBytes, dr + <usize>i * dBytes, xa, xa + stride, k, nb);
  }
  if (t < tEnd) {
    const xt = xq + <usize>t * stride, ot = o + <usize>t * outStride;
    for (let i = 0; i < count; i++) store<f32>(ot + (<usize>i << 2), dotRowQ4(row + <usize>i * rowBytes, dr + <usize>i * dBytes, xt, k, nb));
  }
}

/** out[n, rows] = x[n, cols] · Q4_0 Wᵀ; xq: scratch of n · xqStride(cols) bytes. */
export function matmul_q4_0_relaxed(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32, n: i32): void {
  const k = <usize>paddedCols(cols), nb = k >> 5, stride = xqStride(cols);
  for (let t = 0; t < n; t++) quantizeI8(xq + <usize>t * stride, x + (<usize>t * <usize>cols << 2), cols);
  // The token chunks of simd-quant.ts's tokenChunk (quantized activations of a chunk stay in L2).
  const chunk = max(8, <i32>(<usize>262144 / stride) & ~7);
  for (let t0 = 0; t0 < n; t0 += chunk) {
    const tEnd = min(n, t0 + chunk);
    let r = 0;
    for (; r + 2 <= rows; r += 2) rowsTokens(out, w, d, xq, r, 2, t0, tEnd, rows, k, nb);
    if (r < rows) rowsTokens(out, w, d, xq, r, 1, t0, tEnd, rows, k, nb);
  }
}
