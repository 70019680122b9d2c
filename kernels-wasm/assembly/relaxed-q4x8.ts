// Q4_0 matvec on relaxed SIMD over the row-interleaved layout (q4x8.ts): one i32 lane per weight row. A
// 16-byte load holds 4 bytes (8 nibbles) of each of 4 rows; i16x8.relaxed_dot_i8x16_i7x16_s (one pmaddubsw in
// V8) against 4 activation codes broadcast to every row gives each row two i16 pair sums, which add up in i16
// over the whole block (8 dots, |lane| ≤ 8 · 2 · 15 · 127 = 30480) and widen once per block by one
// i32x4.dot_i16x8_s. The nibbles are the op's 7-bit operand, so its result is deterministic (relaxed-q4.ts).
// Against dotRowQ4 a row's block costs no horizontal work and a quarter of the scale work: the block's exact
// integer Σ n·q - 8·Σq, converted once, times d_w · d_x (a vector of 4 rows' f32 scales), into an f32 lane.
// Bit-identical to matvec_q4_0x8 (plain SIMD) and its scalar twin matvec_q4_0x8_scalar (q4x8.ts).
// The matmul (prefill, batched decode) walks tokens in pairs over each group (group2): each chunk's nibbles are
// unpacked once for two tokens, 1.38× the row-major relaxed matmul on a stories110M layer at 32 tokens (four
// tokens at once measured slower: the sums no longer fit the registers).
import { paddedCols, xqStride } from './quant-common';
import { quantizeI8 } from './relaxed-q4';
import { closeRows, rowScales, storeGroup } from './q4x8';

/** One group of 8 rows · one quantized token (as q4x8.ts's groupPlain, relaxed dot). */
@inline function group(o: usize, w: usize, d: usize, xq: usize, k: usize, nb: usize): void {
  const scales = xq + k, corr = scales + (nb << 3); // the -8·Σq slots (1×)
  let a = f32x4.splat(0), b = a;
  for (let kb: usize = 0; kb < nb; kb++) {
    const xb = xq + (kb << 5);
    const c = v128.load32_splat(corr + (kb << 2)), dx = v128.load32_splat(scales + (kb << 2));
    // Both row quads meet the same broadcast codes: each pair of broadcasts serves 8 rows.
    const m = i8x16.splat(15);
    let sa = i16x8.splat(0), sb = sa;
    for (let ch: usize = 0; ch < 4; ch++) {
      const xl = v128.load32_splat(xb + (ch << 2)), xh = v128.load32_splat(xb + 16 + (ch << 2));
      const va = v128.load(w + (ch << 5)), vb = v128.load(w + (ch << 5), 16);
      sa = dots(sa, v128.and(va, m), v128.and(i16x8.shr_u(va, 4), m), xl, xh);
      sb = dots(sb, v128.and(vb, m), v128.and(i16x8.shr_u(vb, 4), m), xl, xh);
    }
    a = close(a, sa, c, rowScales(d, false), dx);
    b = close(b, sb, c, rowScales(d, true), dx);
    w += 128; d += 16;
  }
  storeGroup(o, a, b);
}

/** `group` on row group g of the matrix (its codes at nb · 128 bytes a group, its scales at nb · 16). */
@inline function groupAt(out: usize, w: usize, d: usize, xq: usize, k: usize, nb: usize, g: i32): void {
  group(out + (<usize>g << 5), w + ((<usize>g * nb) << 7), d + ((<usize>g * nb) << 4), xq, k, nb);
}

/** Rows 0..3 (sa) or 4..7 of one chunk's nibbles (lo, hi) against a token's broadcast codes (xl, xh), added to s. */
@inline function dots(s: v128, lo: v128, hi: v128, xl: v128, xh: v128): v128 {
  return i16x8.add(s, i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(xl, lo), i16x8.relaxed_dot_i8x16_i7x16_s(xh, hi)));
}

/** acc + f32(i16 pair sums widened, + c) · (d_w · d_x): one row quad's block, as `group` closes it. */
@inline function close(acc: v128, s: v128, c: v128, dw: v128, dx: v128): v128 {
  return closeRows(acc, i32x4.dot_i16x8_s(s, i16x8.splat(1)), c, dw, dx);
}

/**
 * `group` for two tokens at once (prefill): each chunk's nibbles are unpacked once for both. Every output is
 * the same arithmetic as `group`'s, so bit-identical to the matvec.
 */
@inline function group2(o0: usize, o1: usize, w: usize, d: usize, x0: usize, x1: usize, k: usize, nb: usize): void {
  const m = i8x16.splat(15);
  let a0 = f32x4.splat(0), b0 = a0, a1 = a0, b1 = a0;
  for (let kb: usize = 0; kb < nb; kb++) {
    const xb0 = x0 + (kb << 5), xb1 = x1 + (kb << 5);
    let sa0 = i16x8.splat(0), sb0 = sa0, sa1 = sa0, sb1 = sa0;
    for (let ch: usize = 0; ch < 4; ch++) {
      const va = v128.load(w + (ch << 5)), vb = v128.load(w + (ch << 5), 16);
      const la = v128.and(va, m), ha = v128.and(i16x8.shr_u(va, 4), m);
      const lb = v128.and(vb, m), hb = v128.and(i16x8.shr_u(vb, 4), m);
      let xl = v128.load32_splat(xb0 + (ch << 2)), xh = v128.load32_splat(xb0 + 16 + (ch << 2));
      sa0 = dots(sa0, la, ha, xl, xh);
      sb0 = dots(sb0, lb, hb, xl, xh);
      xl = v128.load32_splat(xb1 + (ch << 2)); xh = v128.load32_splat(xb1 + 16 + (ch << 2));
      sa1 = dots(sa1, la, ha, xl, xh);
      sb1 = dots(sb1, lb, hb, xl, xh);
    }
    const dwa = rowScales(d, false), dwb = rowScales(d, true);
    const s0 = x0 + k + (kb << 2), s1 = x1 + k + (kb << 2); // d_x; the -8·Σq slot is 8·nb bytes on
    const c0 = v128.load32_splat(s0 + (nb << 3)), dx0 = v128.load32_splat(s0);
    const c1 = v128.load32_splat(s1 + (nb << 3)), dx1 = v128.load32_splat(s1);
    a0 = close(a0, sa0, c0, dwa, dx0); b0 = close(b0, sb0, c0, dwb, dx0);
    a1 = close(a1, sa1, c1, dwa, dx1); b1 = close(b1, sb1, c1, dwb, dx1);
    w += 128; d += 16;
  }
  storeGroup(o0, a0, b0);
  storeGroup(o1, a1, b1);
}

/** matmul_q4_0x8 on relaxed SIMD: out[n, rows] = x[n, cols] · Wᵀ, W in the q4x8 layout. */
export function matmul_q4_0x8_relaxed(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32, n: i32): void {
  const k = <usize>paddedCols(cols), nb = k >> 5, stride = xqStride(cols);
  for (let t = 0; t < n; t++) quantizeI8(xq + <usize>t * stride, x + (<usize>t * <usize>cols << 2), cols);
  const groups = rows >> 3;
  for (let g = 0; g < groups; g++) {
    const wg = w + ((<usize>g * nb) << 7), dg = d + ((<usize>g * nb) << 4);
    const og = out + (<usize>g << 5), rowBytes = <usize>rows << 2;
    let t = 0;
    for (; t + 2 <= n; t += 2) {
      const xt = xq + <usize>t * stride, ot = og + <usize>t * rowBytes;
      group2(ot, ot + rowBytes, wg, dg, xt, xt + stride, k, nb);
    }
    if (t < n) group(og + <usize>t * rowBytes, wg, dg, xq + <usize>t * stride, k, nb);
  }
}

/** matvec_q4_0x8 on relaxed SIMD: its own function, so group2's register pressure does not reach it. */
export function matvec_q4_0x8_relaxed(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32): void {
  const k = <usize>paddedCols(cols), nb = k >> 5;
  quantizeI8(xq, x, cols);
  // Groups g and g + groups/2 alternate: two DRAM streams in flight (as the Q8_0 matvec's rows): 1.07-1.11× on
  // stories110M q4 decode in every round (bench/decode-ab.ts, 2026-12-08); four streams were 0.89-0.98×.
  const groups = rows >> 3, half = groups >> 1;
  for (let g = 0; g < half; g++) {
    groupAt(out, w, d, xq, k, nb, g);
    groupAt(out, w, d, xq, k, nb, g + half);
  }
  if (groups & 1) groupAt(out, w, d, xq, k, nb, groups - 1);
}
