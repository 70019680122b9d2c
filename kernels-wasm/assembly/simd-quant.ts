// Q8_0 and Q4_0 matvec/matmul with integer dot products (as llama.cpp's CPU path): the activations are
// quantized to int8 once per call (quant-common.ts, f32x4), then each 32-block is Σ w·x in i32 via
// i32x4.dot_i16x8_s, converted once and scaled by d_w · d_x into f32 accumulators. Weights are split into
// i16 lanes by shifts and masks, no widening shuffles: Q8_0's even/odd bytes of a 16-byte load (256× scaled:
// shl 8 and `and 0xff00`, one op each, the 2^-8 folded into the f16 scale decode), Q4_0's four nibbles of each
// i16 lane — the activation layout is permuted to match. Q4_0's "- 8" is folded out: Σ (n - 8)·x = Σ n·x - 8·Σx,
// with Σx precomputed per block. Measured faster than dequantizing to f32 (bench/quant.ts).
// These loops are bound by instruction count more than by any one port (bench/RESULTS.md, 2026-11-28), so
// pointers step through the blocks (V8 recomputes each index expression), scales stay in scalar code and
// their f16 decode is a table load (quant-common.ts f16Div256At).
// Batched (n > 1): tiles of 2 rows × 16 tokens (dot2xT), so the weight split, the f16 scale decode and the
// activation loads are amortized, and each token's two block sums are folded into one vector before the
// single convert and scale; the tokens' accumulators sit in an L1 scratch, which keeps V8 from spilling
// (bench/RESULTS.md, 2026-11-28: 1.3× over 1 row × 2 tokens, then 1.25× more from the scratch and 16 tokens).
import { f16Div256At, f16ToF32, paddedCols, quantizeActivationsSimd, xqStride } from './quant-common';
import { hsum } from './simd-math';

/**
 * i32x4 partial sums of one Q4_0 block (16 bytes of nibbles), 256× like blockQ8x256's, the -8 applied via the
 * block's Σx at xsum. Each i16 lane holds four codes at bits 0, 4, 8, 12; masking them in place (one op each)
 * leaves them 1×, 16×, 256× and (shifted down) 1×: the dots are rescaled to 256× by two shifts after.
 */
@inline function blockQ4x256(w: usize, x: usize, xsum: usize): v128 {
  const v = v128.load(w);
  const p0 = i32x4.dot_i16x8_s(v128.and(v, i16x8.splat(0x000f)), v128.load(x));
  const p1 = i32x4.dot_i16x8_s(v128.and(v, i16x8.splat(0x0f00)), v128.load(x, 16));
  const p2 = i32x4.dot_i16x8_s(v128.and(v, i16x8.splat(0x00f0)), v128.load(x, 32));
  const p3 = i32x4.dot_i16x8_s(i16x8.shr_u(v, 12), v128.load(x, 48));
  const low = i32x4.sub(i32x4.add(p0, p3), i32x4.shl(v128.load32_zero(xsum), 3)); // 1×, with the -8·Σx
  return i32x4.add(i32x4.add(i32x4.shl(low, 8), p1), i32x4.shl(p2, 4));
}

@inline function scaled(acc: v128, isum: v128, d: f32): v128 {
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(isum), f32x4.splat(d)));
}

/**
 * Q8_0 block split for one row · one token, 256× scaled: i16 lane i of a 16-byte load holds code 2i in its low
 * byte and 2i+1 in its high byte, so shl 8 gives 256·w[2i] and `and 0xff00` gives 256·w[2i+1] — one op each
 * instead of a shift pair. The block's Σ w·x is then 256× too (|Σ| < 2^28, converted to f32 exactly), and the
 * 2^-8 goes into the f16 scale decode (wScale): the same products, so the same result as unscaled codes.
 */
@inline function blockQ8x256(w: usize, x: usize): v128 {
  return blockQ8x256At(w, v128.load(x), v128.load(x, 16), v128.load(x, 32), v128.load(x, 48));
}

/** 256 × the integer Σ w·x of one block (minus 8·Σx for Q4_0) as four i32 partials. */
@inline function blockSum(w: usize, x: usize, xsum: usize, q4: bool): v128 {
  return q4 ? blockQ4x256(w, x, xsum) : blockQ8x256(w, x);
}

/** d_w of f16 bits h for the format's block sums: d_w · 2^-8 for Q8_0's 256× sums, d_w for Q4_0's. */
@inline function wScale(h: u32, q4: bool): f32 {
  const t = f16Div256At(h);
  return q4 ? t * 256 : t;
}

/**
 * One row · one token, two blocks per step into two accumulators. The scales are decoded in scalar code on
 * purpose: integer ops run beside the vector ops (a vector f16 decode of two blocks with a lane transpose of
 * their sums measured 10 % slower, four blocks per step 20 %: V8 hoists every load and spills).
 * `q4` selects the format (a constant at every call site).
 */
@inline function dotRow(row: usize, d: usize, xq: usize, nb: i32, q4: bool): f32 {
  const nbu = <usize>nb, wb: usize = q4 ? 16 : 32;
  // Pointers step through the blocks (V8 recomputes an index expression per load: fewer instructions so).
  let w = row, x = xq, dw = d, dx = xq + (nbu << 6), xs = dx + (nbu << 2);
  const end = xs;
  let a = f32x4.splat(0), b = a;
  for (; dx + 8 <= end; dx += 8) {
    a = scaled(a, blockSum(w, x, xs, q4), f16Div256At(load<u16>(dw)) * load<f32>(dx));
    b = scaled(b, blockSum(w + wb, x + 64, xs + 4, q4), f16Div256At(load<u16>(dw, 2)) * load<f32>(dx, 4));
    w += 2 * wb; x += 128; dw += 4; xs += 8;
  }
  if (dx < end) a = scaled(a, blockSum(w, x, xs, q4), f16Div256At(load<u16>(dw)) * load<f32>(dx));
  return hsum(f32x4.add(a, b));
}

/** blockQ8x256 on activations already in registers (dotRowsQ8: one block's four i16x8 loads serve two rows). */
@inline function blockQ8x256At(w: usize, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const v0 = v128.load(w), v1 = v128.load(w, 16), hi = i16x8.splat(<i16>0xff00);
  const p0 = i32x4.dot_i16x8_s(i16x8.shl(v0, 8), x0);
  const p1 = i32x4.dot_i16x8_s(v128.and(v0, hi), x1);
  const p2 = i32x4.dot_i16x8_s(i16x8.shl(v1, 8), x2);
  const p3 = i32x4.dot_i16x8_s(v128.and(v1, hi), x3);
  return i32x4.add(i32x4.add(p0, p1), i32x4.add(p2, p3));
}

/**
 * Two Q8_0 rows · one token: each row's arithmetic is dotRow's (even blocks into a, odd into b, the same
 * scale products), so each output is bit-identical to dotRow's, while each block's activations and their
 * scale are loaded once for both rows. A load is more than a load where the runtime checks bounds in code:
 * workerd's V8 does (bench/workerd-kernels.ts, 2026-12-07: a v128 load loop ran 1.30× slower there than in Node,
 * as in Node with --wasm-enforce-bounds-checks), and dotRow spends 9 of its loads per block, 5 of them on the activations.
 */
@inline function dotRowsQ8(outA: usize, outB: usize, wA: usize, dA: usize, wB: usize, dB: usize, xq: usize, nb: i32): void {
  const nbu = <usize>nb;
  let x = xq, dx = xq + (nbu << 6);
  const end = dx + (nbu << 2);
  // One block per pass, the even/odd accumulators swapped after each (a always takes the next block): the same
  // sums in the same order as dotRow's two-blocks-per-pass loop, with half the values live, so V8 no longer
  // hoists the second block's loads and spills them.
  let aA = f32x4.splat(0), bA = aA, aB = aA, bB = aA;
  for (; dx < end; dx += 4) {
    const x0 = v128.load(x), x1 = v128.load(x, 16), x2 = v128.load(x, 32), x3 = v128.load(x, 48);
    const sx = load<f32>(dx);
    const tA = scaled(aA, blockQ8x256At(wA, x0, x1, x2, x3), f16Div256At(load<u16>(dA)) * sx);
    const tB = scaled(aB, blockQ8x256At(wB, x0, x1, x2, x3), f16Div256At(load<u16>(dB)) * sx);
    aA = bA; bA = tA; aB = bB; bB = tB;
    wA += 32; wB += 32; x += 64; dA += 2; dB += 2;
  }
  store<f32>(outA, hsum(f32x4.add(aA, bA)));
  store<f32>(outB, hsum(f32x4.add(aB, bB)));
}

/**
 * dotRowsQ8 two blocks per pass (its accumulators written alternately, not swapped): the same sums in the same
 * order, so bit-identical. workerd runs this one ~10 % faster and Node ~5 % slower (bench/workerd-kernels.ts,
 * 2026-12-08): workerd's V8 checks bounds in code, and the longer body amortizes the loop's share.
 */
@inline function dotRowsQ8Pairs(outA: usize, outB: usize, wA: usize, dA: usize, wB: usize, dB: usize, xq: usize, nb: i32): void {
  const nbu = <usize>nb;
  let x = xq, dx = xq + (nbu << 6);
  const end = dx + (nbu << 2);
  let aA = f32x4.splat(0), bA = aA, aB = aA, bB = aA;
  for (; dx + 8 <= end; dx += 8) {
    let x0 = v128.load(x), x1 = v128.load(x, 16), x2 = v128.load(x, 32), x3 = v128.load(x, 48);
    let sx = load<f32>(dx);
    aA = scaled(aA, blockQ8x256At(wA, x0, x1, x2, x3), f16Div256At(load<u16>(dA)) * sx);
    aB = scaled(aB, blockQ8x256At(wB, x0, x1, x2, x3), f16Div256At(load<u16>(dB)) * sx);
    x0 = v128.load(x, 64); x1 = v128.load(x, 80); x2 = v128.load(x, 96); x3 = v128.load(x, 112);
    sx = load<f32>(dx, 4);
    bA = scaled(bA, blockQ8x256At(wA + 32, x0, x1, x2, x3), f16Div256At(load<u16>(dA, 2)) * sx);
    bB = scaled(bB, blockQ8x256At(wB + 32, x0, x1, x2, x3), f16Div256At(load<u16>(dB, 2)) * sx);
    wA += 64; wB += 64; x += 128; dA += 4; dB += 4;
  }
  if (dx < end) {
    const x0 = v128.load(x), x1 = v128.load(x, 16), x2 = v128.load(x, 32), x3 = v128.load(x, 48);
    const sx = load<f32>(dx);
    aA = scaled(aA, blockQ8x256At(wA, x0, x1, x2, x3), f16Div256At(load<u16>(dA)) * sx);
    aB = scaled(aB, blockQ8x256At(wB, x0, x1, x2, x3), f16Div256At(load<u16>(dB)) * sx);
  }
  store<f32>(outA, hsum(f32x4.add(aA, bA)));
  store<f32>(outB, hsum(f32x4.add(aB, bB)));
}

/**
 * The Q4_0 matvec's activations made 256× for every nibble position (in place, after quantizeActivationsSimd):
 * the segments that meet the 1× nibbles (evens of 0..15, odds of 16..31) times 256, the one that meets the 16×
 * nibbles times 16 (|code| ≤ 127, so ≤ 32512: still i16). The block sum slot becomes -2048·Σx, the 256× "- 8"
 * term. blockQ4Pre's four dots then add up as they come, the same i32 as blockQ4x256's shifts and subtract.
 */
@inline function prescaleQ4(xq: usize, nb: usize): void {
  const sums = xq + (nb << 6) + (nb << 2);
  for (let b: usize = 0; b < nb; b++) {
    const p = xq + (b << 6), s = sums + (b << 2);
    v128.store(p, i16x8.shl(v128.load(p), 8));
    v128.store(p, i16x8.shl(v128.load(p, 32), 4), 32);
    v128.store(p, i16x8.shl(v128.load(p, 48), 8), 48);
    store<i32>(s, load<i32>(s) * -2048);
  }
}

/** blockQ4x256 on prescaleQ4's activations: c holds the block's -2048·Σx. */
@inline function blockQ4Pre(w: usize, x: usize, c: usize): v128 {
  const v = v128.load(w);
  const p0 = i32x4.dot_i16x8_s(v128.and(v, i16x8.splat(0x000f)), v128.load(x));
  const p1 = i32x4.dot_i16x8_s(v128.and(v, i16x8.splat(0x0f00)), v128.load(x, 16));
  const p2 = i32x4.dot_i16x8_s(v128.and(v, i16x8.splat(0x00f0)), v128.load(x, 32));
  const p3 = i32x4.dot_i16x8_s(i16x8.shr_u(v, 12), v128.load(x, 48));
  return i32x4.add(i32x4.add(i32x4.add(p0, p1), i32x4.add(p2, p3)), v128.load32_zero(c));
}

/** dotRow for the Q4_0 matvec on prescaleQ4's activations: the same block sums, scales and order. */
@inline function dotRowQ4(row: usize, d: usize, xq: usize, nb: usize): f32 {
  let w = row, x = xq, dw = d, dx = xq + (nb << 6), c = dx + (nb << 2);
  const end = c;
  let a = f32x4.splat(0), b = a;
  for (; dx + 8 <= end; dx += 8) {
    a = scaled(a, blockQ4Pre(w, x, c), f16Div256At(load<u16>(dw)) * load<f32>(dx));
    b = scaled(b, blockQ4Pre(w + 16, x + 64, c + 4), f16Div256At(load<u16>(dw, 2)) * load<f32>(dx, 4));
    w += 32; x += 128; dw += 4; c += 8;
  }
  if (dx < end) a = scaled(a, blockQ4Pre(w, x, c), f16Div256At(load<u16>(dw)) * load<f32>(dx));
  return hsum(f32x4.add(a, b));
}

/** One row · two tokens: each block's weights are split into lanes once and serve both. */
@inline function dotRowX2(outA: usize, outB: usize, row: usize, d: usize, xa: usize, xb: usize, nb: i32, q4: bool): void {
  const sa = xa + (<usize>nb << 6), sb = xb + (<usize>nb << 6);
  const suma = sa + (<usize>nb << 2), sumb = sb + (<usize>nb << 2);
  let a = f32x4.splat(0), b = a;
  const m = i16x8.splat(15);
  for (let k = 0; k < nb; k++) {
    let e0: v128, e1: v128, e2: v128, e3: v128;
    if (q4) {
      const v = v128.load(row + (<usize>k << 4));
      e0 = v128.and(v, m); e1 = v128.and(i16x8.shr_u(v, 8), m); e2 = v128.and(i16x8.shr_u(v, 4), m); e3 = i16x8.shr_u(v, 12);
    } else {
      const v0 = v128.load(row + (<usize>k << 5)), v1 = v128.load(row + (<usize>k << 5), 16);
      e0 = i16x8.shr_s(i16x8.shl(v0, 8), 8); e1 = i16x8.shr_s(v0, 8); e2 = i16x8.shr_s(i16x8.shl(v1, 8), 8); e3 = i16x8.shr_s(v1, 8);
    }
    const x = <usize>k << 6;
    let ia = i32x4.add(
      i32x4.add(i32x4.dot_i16x8_s(e0, v128.load(xa + x)), i32x4.dot_i16x8_s(e1, v128.load(xa + x, 16))),
      i32x4.add(i32x4.dot_i16x8_s(e2, v128.load(xa + x, 32)), i32x4.dot_i16x8_s(e3, v128.load(xa + x, 48))));
    let ib = i32x4.add(
      i32x4.add(i32x4.dot_i16x8_s(e0, v128.load(xb + x)), i32x4.dot_i16x8_s(e1, v128.load(xb + x, 16))),
      i32x4.add(i32x4.dot_i16x8_s(e2, v128.load(xb + x, 32)), i32x4.dot_i16x8_s(e3, v128.load(xb + x, 48))));
    if (q4) {
      ia = i32x4.sub(ia, i32x4.shl(v128.load32_zero(suma + (<usize>k << 2)), 3));
      ib = i32x4.sub(ib, i32x4.shl(v128.load32_zero(sumb + (<usize>k << 2)), 3));
    }
    const dw = f16ToF32(load<u16>(d + (<usize>k << 1)));
    a = scaled(a, ia, dw * load<f32>(sa + (<usize>k << 2)));
    b = scaled(b, ib, dw * load<f32>(sb + (<usize>k << 2)));
  }
  store<f32>(outA, hsum(a));
  store<f32>(outB, hsum(b));
}

/** Σ w·x of one token's 32-block x against two rows' split weights, pairwise folded: [r0, r0, r1, r1] partials. */
@inline function pairDot(a0: v128, a1: v128, a2: v128, a3: v128, b0: v128, b1: v128, b2: v128, b3: v128, x: usize): v128 {
  const x0 = v128.load(x), x1 = v128.load(x, 16), x2 = v128.load(x, 32), x3 = v128.load(x, 48);
  const ia = i32x4.add(i32x4.add(i32x4.dot_i16x8_s(a0, x0), i32x4.dot_i16x8_s(a1, x1)),
    i32x4.add(i32x4.dot_i16x8_s(a2, x2), i32x4.dot_i16x8_s(a3, x3)));
  const ib = i32x4.add(i32x4.add(i32x4.dot_i16x8_s(b0, x0), i32x4.dot_i16x8_s(b1, x1)),
    i32x4.add(i32x4.dot_i16x8_s(b2, x2), i32x4.dot_i16x8_s(b3, x3)));
  return i32x4.add(v128.shuffle<i32>(ia, ib, 0, 1, 4, 5), v128.shuffle<i32>(ia, ib, 2, 3, 6, 7));
}

/** acc += (pair sums [- 8·Σx for Q4_0]) · [dw0, dw0, dw1, dw1] · d_x for one token's block k. */
@inline function pairAcc(acc: v128, s: v128, dwv: v128, xs: usize, k: usize, nb: usize, q4: bool): v128 {
  const sc = xs + (nb << 6) + (k << 2);
  if (q4) s = i32x4.sub(s, i64x2.splat(<i64><u32>(load<i32>(sc + (nb << 2)) << 3)));
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.mul(dwv, v128.load32_splat(sc))));
}

/**
 * Two rows · `tokens` tokens (16, 8 or 4; a constant at each call site): each block's weights are split into
 * i16 lanes once and feed 2 · tokens dot products, each token's activations are loaded once for both rows,
 * and each token's pair of block sums takes one convert and one scale.
 */
@inline function dot2xT(out: usize, outStride: usize, r0: usize, r1: usize, d0: usize, d1: usize, xq: usize, stride: usize, nb: i32, q4: bool, tokens: usize): void {
  const nbu = <usize>nb;
  // The tokens' accumulators live in a small L1 scratch, each loaded, updated and stored per block: that store
  // orders the next token's loads after this token's arithmetic in V8's schedule. Held in registers instead, V8
  // hoists all 32 activation loads of a block to the top and spills them and the accumulators (measured slower).
  for (let t: usize = 0; t < tokens; t++) v128.store(TILE_ACC + (t << 4), f32x4.splat(0));
  const m = i16x8.splat(15);
  const hi = i16x8.splat(<i16>0xff00);
  for (let k: usize = 0; k < nbu; k++) {
    let a0: v128, a1: v128, a2: v128, a3: v128, b0: v128, b1: v128, b2: v128, b3: v128;
    if (q4) {
      const v = v128.load(r0), u = v128.load(r1);
      a0 = v128.and(v, m); a1 = v128.and(i16x8.shr_u(v, 8), m); a2 = v128.and(i16x8.shr_u(v, 4), m); a3 = i16x8.shr_u(v, 12);
      b0 = v128.and(u, m); b1 = v128.and(i16x8.shr_u(u, 8), m); b2 = v128.and(i16x8.shr_u(u, 4), m); b3 = i16x8.shr_u(u, 12);
    } else {
      // 256× split, as blockQ8x256 (the 2^-8 is in wScale)
      const v0 = v128.load(r0), v1 = v128.load(r0, 16), u0 = v128.load(r1), u1 = v128.load(r1, 16);
      a0 = i16x8.shl(v0, 8); a1 = v128.and(v0, hi); a2 = i16x8.shl(v1, 8); a3 = v128.and(v1, hi);
      b0 = i16x8.shl(u0, 8); b1 = v128.and(u0, hi); b2 = i16x8.shl(u1, 8); b3 = v128.and(u1, hi);
    }
    const dw0 = wScale(load<u16>(d0), q4), dw1 = wScale(load<u16>(d1), q4);
    const dwv = f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(dw0), 2, dw1), 3, dw1);
    r0 += q4 ? 16 : 32; r1 += q4 ? 16 : 32; d0 += 2; d1 += 2;
    const x = k << 6;
    tokenAcc(0, a0, a1, a2, a3, b0, b1, b2, b3, xq, x, dwv, k, nbu, q4);
    tokenAcc(1, a0, a1, a2, a3, b0, b1, b2, b3, xq + stride, x, dwv, k, nbu, q4);
    tokenAcc(2, a0, a1, a2, a3, b0, b1, b2, b3, xq + 2 * stride, x, dwv, k, nbu, q4);
    tokenAcc(3, a0, a1, a2, a3, b0, b1, b2, b3, xq + 3 * stride, x, dwv, k, nbu, q4);
    if (tokens >= 8) {
      tokenAcc(4, a0, a1, a2, a3, b0, b1, b2, b3, xq + 4 * stride, x, dwv, k, nbu, q4);
      tokenAcc(5, a0, a1, a2, a3, b0, b1, b2, b3, xq + 5 * stride, x, dwv, k, nbu, q4);
      tokenAcc(6, a0, a1, a2, a3, b0, b1, b2, b3, xq + 6 * stride, x, dwv, k, nbu, q4);
      tokenAcc(7, a0, a1, a2, a3, b0, b1, b2, b3, xq + 7 * stride, x, dwv, k, nbu, q4);
    }
    if (tokens >= 16) {
      tokenAcc(8, a0, a1, a2, a3, b0, b1, b2, b3, xq + 8 * stride, x, dwv, k, nbu, q4);
      tokenAcc(9, a0, a1, a2, a3, b0, b1, b2, b3, xq + 9 * stride, x, dwv, k, nbu, q4);
      tokenAcc(10, a0, a1, a2, a3, b0, b1, b2, b3, xq + 10 * stride, x, dwv, k, nbu, q4);
      tokenAcc(11, a0, a1, a2, a3, b0, b1, b2, b3, xq + 11 * stride, x, dwv, k, nbu, q4);
      tokenAcc(12, a0, a1, a2, a3, b0, b1, b2, b3, xq + 12 * stride, x, dwv, k, nbu, q4);
      tokenAcc(13, a0, a1, a2, a3, b0, b1, b2, b3, xq + 13 * stride, x, dwv, k, nbu, q4);
      tokenAcc(14, a0, a1, a2, a3, b0, b1, b2, b3, xq + 14 * stride, x, dwv, k, nbu, q4);
      tokenAcc(15, a0, a1, a2, a3, b0, b1, b2, b3, xq + 15 * stride, x, dwv, k, nbu, q4);
    }
  }
  // Lanes [r0, r0, r1, r1] → out[t, r0], out[t, r1] (r1 is the next row, 4 bytes on).
  for (let t: usize = 0; t < tokens; t++) storePair(out + t * outStride, v128.load(TILE_ACC + (t << 4)));
}

/** Token t's accumulator in TILE_ACC += its pair of block-k sums against the two rows' split weights. */
@inline function tokenAcc(t: usize, a0: v128, a1: v128, a2: v128, a3: v128, b0: v128, b1: v128, b2: v128, b3: v128,
  xs: usize, x: usize, dwv: v128, k: usize, nb: usize, q4: bool): void {
  const acc = TILE_ACC + (t << 4);
  v128.store(acc, pairAcc(v128.load(acc), pairDot(a0, a1, a2, a3, b0, b1, b2, b3, xs + x), dwv, xs, k, nb, q4));
}

/** dot2xT's accumulators: eight tokens' [r0, r0, r1, r1] partial sums. */
const TILE_ACC = memory.data(256, 16);

@inline function storePair(o: usize, c: v128): void {
  store<f32>(o, f32x4.extract_lane(c, 0) + f32x4.extract_lane(c, 1));
  store<f32>(o, f32x4.extract_lane(c, 2) + f32x4.extract_lane(c, 3), 4);
}

/** Tokens per chunk: their quantized activations (about 256 KiB) stay in L2 while W streams once per chunk. */
@inline function tokenChunk(cols: i32): i32 {
  return max(8, <i32>(<usize>262144 / xqStride(cols)) & ~7);
}

// Inlined into each export so `q4` is a constant there and every format branch folds away.
/**
 * The Q8_0 matvec over quantized activations: rows r and r + rows/2 alternate, two DRAM streams in flight instead
 * of one (each row's math unchanged). Measured on stories110M q8 decode: +3-8 %; three or four streams were
 * slower, and Q4_0 (half the bytes, compute-bound) 1.5 % slower so (bench/RESULTS.md, 2026-11-28 q8 decode entry).
 * `pairs` (a constant) picks dotRowsQ8Pairs over dotRowsQ8.
 */
@inline function matvecQ8Halves(out: usize, w: usize, d: usize, xq: usize, rows: i32, nb: i32, pairs: bool): void {
  const rowBytes = <usize>(nb << 5), dBytes = <usize>(nb << 1);
  const half = rows >> 1;
  const wh = w + <usize>half * rowBytes, dh = d + <usize>half * dBytes, oh = out + (<usize>half << 2);
  for (let r = 0; r < half; r++) {
    const wr = <usize>r * rowBytes, dr = <usize>r * dBytes, o = <usize>r << 2;
    if (pairs) dotRowsQ8Pairs(out + o, oh + o, w + wr, d + dr, wh + wr, dh + dr, xq, nb);
    else dotRowsQ8(out + o, oh + o, w + wr, d + dr, wh + wr, dh + dr, xq, nb);
  }
  if (rows & 1) store<f32>(out + (<usize>(rows - 1) << 2), dotRow(w + <usize>(rows - 1) * rowBytes, d + <usize>(rows - 1) * dBytes, xq, nb, false));
}

@inline function matmulQuant(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32, n: i32, q4: bool): void {
  quantizeActivationsSimd(xq, x, cols, n);
  const k = paddedCols(cols), nb = k >> 5;
  const rowBytes = <usize>(q4 ? k >> 1 : k), dBytes = <usize>(nb << 1), stride = xqStride(cols);
  const outStride = <usize>rows << 2;
  if (n == 1 && q4) {
    prescaleQ4(xq, <usize>nb);
    for (let r = 0; r < rows; r++) store<f32>(out + (<usize>r << 2), dotRowQ4(w + <usize>r * rowBytes, d + <usize>r * dBytes, xq, <usize>nb));
    return;
  }
  if (n == 1) return matvecQ8Halves(out, w, d, xq, rows, nb, false);
  const chunk = tokenChunk(cols);
  for (let t0 = 0; t0 < n; t0 += chunk) {
    const tEnd = min(n, t0 + chunk);
    let r = 0;
    for (; r + 2 <= rows; r += 2) {
      const row = w + <usize>r * rowBytes, dr = d + <usize>r * dBytes, o = out + (<usize>r << 2);
      let t = t0;
      for (; t + 16 <= tEnd; t += 16) {
        dot2xT(o + <usize>t * outStride, outStride, row, row + rowBytes, dr, dr + dBytes, xq + <usize>t * stride, stride, nb, q4, 16);
      }
      if (t + 8 <= tEnd) {
        dot2xT(o + <usize>t * outStride, outStride, row, row + rowBytes, dr, dr + dBytes, xq + <usize>t * stride, stride, nb, q4, 8);
        t += 8;
      }
      if (t + 4 <= tEnd) {
        dot2xT(o + <usize>t * outStride, outStride, row, row + rowBytes, dr, dr + dBytes, xq + <usize>t * stride, stride, nb, q4, 4);
        t += 4;
      }
      for (; t + 2 <= tEnd; t += 2) {
        const oa = o + <usize>t * outStride, xa = xq + <usize>t * stride;
        dotRowX2(oa, oa + outStride, row, dr, xa, xa + stride, nb, q4);
        dotRowX2(oa + 4, oa + outStride + 4, row + rowBytes, dr + dBytes, xa, xa + stride, nb, q4);
      }
      if (t < tEnd) {
        const xt = xq + <usize>t * stride, ot = o + <usize>t * outStride;
        store<f32>(ot, dotRow(row, dr, xt, nb, q4));
        store<f32>(ot, dotRow(row + rowBytes, dr + dBytes, xt, nb, q4), 4);
      }
    }
    for (; r < rows; r++) {
      const row = w + <usize>r * rowBytes, dr = d + <usize>r * dBytes, o = out + (<usize>r << 2);
      let t = t0;
      for (; t + 2 <= tEnd; t += 2) {
        const oa = o + <usize>t * outStride, xa = xq + <usize>t * stride;
        dotRowX2(oa, oa + outStride, row, dr, xa, xa + stride, nb, q4);
      }
      if (t < tEnd) store<f32>(o + <usize>t * outStride, dotRow(row, dr, xq + <usize>t * stride, nb, q4));
    }
  }
}

/** out[rows] = Q8_0 W[rows, cols] · x[cols]; xq: scratch of xqStride(cols) bytes. */
export function matvec_q8_0(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32): void {
  matmulQuant(out, w, d, x, xq, rows, cols, 1, false);
}

/** matvec_q8_0 over dotRowsQ8Pairs (the Worker's binding, WORKER_RELAXED.q8Pairs); bit-identical. */
export function matvec_q8_0_pairs(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32): void {
  quantizeActivationsSimd(xq, x, cols, 1);
  matvecQ8Halves(out, w, d, xq, rows, paddedCols(cols) >> 5, true);
}

/** out[n, rows] = x[n, cols] · Q8_0 Wᵀ; xq: scratch of n · xqStride(cols) bytes. */
export function matmul_q8_0(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32, n: i32): void {
  matmulQuant(out, w, d, x, xq, rows, cols, n, false);
}

export function matvec_q4_0(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32): void {
  matmulQuant(out, w, d, x, xq, rows, cols, 1, true);
}

export function matmul_q4_0(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32, n: i32): void {
  matmulQuant(out, w, d, x, xq, rows, cols, n, true);
}
