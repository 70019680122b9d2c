// Batched decode: n independent matvecs against one W, each token's output bit-identical to `matvec` /
// `matvec_q8_0` / `matvec_q4_0` (same lane layout, same f32 operations in the same order), while each weight
// row is read from memory once for all n tokens instead of once per token. The decode batcher
// (engine/llama/decode-step.ts) runs the active sequences' next tokens through these, so a sequence decoded
// in a batch samples exactly what it would alone. `matmul` (prefill) tiles differently and rounds differently.
// Quantized: tiles of 2 rows × up to 16 tokens; each 32-block of a row is split into i16 lanes once and
// serves every token, each token's activations are loaded once for both rows; a token's accumulators (per
// row, even and odd blocks, as dotRow's a and b) sit in an L1 scratch so V8 does not spill them.
import { dot1 } from './simd-dot';
import { hsum } from './simd-math';
import { f16Div256At, paddedCols, quantizeActivationsSimd, xqStride } from './quant-common';
import { matvec_q4_0, matvec_q8_0 } from './simd-quant';

/** Tokens per pass over a row: the accumulators of this many tokens fit the scratch. */
const TOKENS = 16;
const ACC = memory.data(TOKENS * 64, 16);

/** out[n, rows] = x[n, cols] · Wᵀ, token t's row exactly matvec(W, x[t]). */
export function matvecs(out: usize, w: usize, x: usize, rows: i32, cols: i32, n: i32): void {
  const stride = <usize>cols << 2, outStride = <usize>rows << 2;
  for (let r = 0; r < rows; r++) {
    const wr = w + <usize>r * stride, o = out + (<usize>r << 2);
    for (let t = 0; t < n; t++) store<f32>(o + <usize>t * outStride, dot1(wr, x + <usize>t * stride, cols));
  }
}

/** i32x4 block sums (256×, as simd-quant.ts's blockQ8x256 / blockQ4x256) of split weights e0..e3 and one token. */
@inline function blockDot(e0: v128, e1: v128, e2: v128, e3: v128, x: usize, xsum: usize, q4: bool): v128 {
  const p0 = i32x4.dot_i16x8_s(e0, v128.load(x)), p1 = i32x4.dot_i16x8_s(e1, v128.load(x, 16));
  const p2 = i32x4.dot_i16x8_s(e2, v128.load(x, 32)), p3 = i32x4.dot_i16x8_s(e3, v128.load(x, 48));
  if (!q4) return i32x4.add(i32x4.add(p0, p1), i32x4.add(p2, p3));
  const low = i32x4.sub(i32x4.add(p0, p3), i32x4.shl(v128.load32_zero(xsum), 3));
  return i32x4.add(i32x4.add(i32x4.shl(low, 8), p1), i32x4.shl(p2, 4));
}

/** Splits a 32-block's weights into the four i16x8 operands of blockDot (blockQ8x256 / blockQ4x256's). */
@inline function split(w: usize, q4: bool, i: i32): v128 {
  if (q4) {
    const v = v128.load(w);
    if (i == 0) return v128.and(v, i16x8.splat(0x000f));
    if (i == 1) return v128.and(v, i16x8.splat(0x0f00));
    if (i == 2) return v128.and(v, i16x8.splat(0x00f0));
    return i16x8.shr_u(v, 12);
  }
  const v = v128.load(w + (<usize>(i >> 1) << 4));
  return i & 1 ? v128.and(v, i16x8.splat(<i16>0xff00)) : i16x8.shl(v, 8);
}

/** acc (in ACC) += convert(s) · scale: dotRow's `scaled`. */
@inline function accumulate(acc: usize, s: v128, scale: f32): void {
  v128.store(acc, f32x4.add(v128.load(acc), f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(scale))));
}

/**
 * Rows `rowsHere` (1 or 2, `rb` bytes apart) · tokens [t0, t1): dotRow's arithmetic per row and token, each
 * block's weight split shared by every token and each token's activations loaded once for both rows. Token
 * t's accumulators in ACC: [row 0 even, row 0 odd, row 1 even, row 1 odd] blocks, 64 bytes per token.
 */
@inline function rowsTokens(out: usize, outStride: usize, row: usize, rb: usize, d: usize, db: usize, xq: usize, stride: usize, nb: i32, t0: i32, t1: i32, two: bool, q4: bool): void {
  const nbu = <usize>nb, n = <usize>(t1 - t0);
  for (let t: usize = 0; t < n << 2; t++) v128.store(ACC + (t << 4), f32x4.splat(0));
  const wb: usize = q4 ? 16 : 32;
  const x0 = xq + <usize>t0 * stride;
  for (let k: usize = 0; k < nbu; k++) {
    const w0 = row + k * wb, w1 = w0 + rb;
    const a0 = split(w0, q4, 0), a1 = split(w0, q4, 1), a2 = split(w0, q4, 2), a3 = split(w0, q4, 3);
    let b0 = a0, b1 = a1, b2 = a2, b3 = a3;
    if (two) { b0 = split(w1, q4, 0); b1 = split(w1, q4, 1); b2 = split(w1, q4, 2); b3 = split(w1, q4, 3); }
    const dw0 = f16Div256At(load<u16>(d + (k << 1))), dw1 = two ? f16Div256At(load<u16>(d + db + (k << 1))) : dw0;
    let acc = ACC + ((k & 1) << 4), xt = x0 + (k << 6), dx = x0 + (nbu << 6) + (k << 2);
    for (let t: usize = 0; t < n; t++) {
      const xs = dx + (nbu << 2), sx = load<f32>(dx);
      accumulate(acc, blockDot(a0, a1, a2, a3, xt, xs, q4), dw0 * sx);
      if (two) accumulate(acc + 32, blockDot(b0, b1, b2, b3, xt, xs, q4), dw1 * sx);
      acc += 64; xt += stride; dx += stride;
    }
  }
  for (let t: usize = 0; t < n; t++) {
    const a = ACC + (t << 6), o = out + (<usize>t0 + t) * outStride;
    store<f32>(o, hsum(f32x4.add(v128.load(a), v128.load(a, 16))));
    if (two) store<f32>(o, hsum(f32x4.add(v128.load(a, 32), v128.load(a, 48))), 4);
  }
}

/**
 * Up to this many tokens each token runs the matvec itself: the tile's accumulators in L1 cost more than the
 * weight reads they share. Measured on an AMD EPYC (Zen 1), 2048 × 768 Q8_0: two tokens through the tile took
 * 1.1–1.7× two matvecs (the edge's 2-stream decode ran at 0.78× of one stream); on the Xeon of 2026-12-07
 * two were level with two matvecs, four and more faster on both. On the Zen 4 of 2026-12-08 (24 copies of the
 * matrix, out of cache): four tokens through the tile took 1.18× four matvecs, eight 0.97–0.99×; one token's
 * matvec is compute-bound there (hot and cold alike), so a shared weight read saves nothing, and a tile of one
 * row and two tokens with every accumulator in a register ran level with the matvecs too (not kept).
 */
const MATVEC_TOKENS = 4;

@inline function matvecsQuant(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32, n: i32, q4: bool): void {
  if (n <= MATVEC_TOKENS) {
    const xStride = <usize>cols << 2, outStride = <usize>rows << 2;
    for (let t = 0; t < n; t++) {
      if (q4) matvec_q4_0(out + <usize>t * outStride, w, d, x + <usize>t * xStride, xq, rows, cols);
      else matvec_q8_0(out + <usize>t * outStride, w, d, x + <usize>t * xStride, xq, rows, cols);
    }
    return;
  }
  quantizeActivationsSimd(xq, x, cols, n);
  const k = paddedCols(cols), nb = k >> 5;
  const rowBytes = <usize>(q4 ? k >> 1 : k), dBytes = <usize>(nb << 1), stride = xqStride(cols);
  const outStride = <usize>rows << 2;
  let r = 0;
  for (; r + 2 <= rows; r += 2) {
    const row = w + <usize>r * rowBytes, dr = d + <usize>r * dBytes, o = out + (<usize>r << 2);
    for (let t0 = 0; t0 < n; t0 += TOKENS)
      rowsTokens(o, outStride, row, rowBytes, dr, dBytes, xq, stride, nb, t0, min(n, t0 + TOKENS), true, q4);
  }
  if (r < rows) {
    const row = w + <usize>r * rowBytes, dr = d + <usize>r * dBytes, o = out + (<usize>r << 2);
    for (let t0 = 0; t0 < n; t0 += TOKENS)
      rowsTokens(o, outStride, row, rowBytes, dr, dBytes, xq, stride, nb, t0, min(n, t0 + TOKENS), false, q4);
  }
}

/** out[n, rows] = x[n, cols] · Q8_0 Wᵀ, token t's row exactly matvec_q8_0(W, x[t]); xq: n · xqStride(cols) bytes. */
export function matvecs_q8_0(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32, n: i32): void {
  matvecsQuant(out, w, d, x, xq, rows, cols, n, false);
}

/** As matvecs_q8_0, for Q4_0 (exactly matvec_q4_0 per token). */
export function matvecs_q4_0(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32, n: i32): void {
  matvecsQuant(out, w, d, x, xq, rows, cols, n, true);
}
