// Q4_0 matvec on relaxed SIMD (kernels-relaxed.wasm only): a block's 16 bytes split into its two nibble
// halves by one `and` and one shift + `and` (elements 0..15 and 16..31, ggml's order), each half one
// i16x8.relaxed_dot_i8x16_i7x16_s against the int8 activation codes in natural order. The nibbles are the op's
// 7-bit operand (0..15) and no i16 pair sum can saturate, so its result is deterministic. The "- 8" enters as
// -2048·Σq added to lane 0 (precomputed per block by the quantizer). Lane i sums elements 4i..4i+3 and
// 16+4i..16+4i+3, the partition of simd-quant.ts's blockQ4x256, the sums are 256× as there and scaled by the
// same f32 values, so the output is bit-identical to matvec_q4_0 (whose scalar twin, matvec_q4_0_scalar, is
// this one's too). In V8 (x64) a block is 1 load, 3 ops to unpack, 2 pmaddubsw (x from memory), 1 paddw,
// 1 pmaddwd, 1 paddd — 22 instructions with the scale, where blockQ4x256 + scale takes ~40 (callgrind,
// bench/kernel-icount.ts; notes in bench/RESULTS.md).
//
// Activation layout of one token, K = paddedCols(cols), nb = K/32 (fits in xqStride(cols)):
//   [0, K) int8 codes, natural order; [K, K + 4nb) f32 scale per block; [K + 4nb, K + 8nb) i32 -2048·Σ codes;
//   [K + 8nb, K + 12nb) i32 -8·Σ codes (the batched kernels' 1× sums, relaxed-q4-matmul.ts).
import { f16Div256At, isum, paddedCols, roundI32 } from './quant-common';
import { hsum } from './simd-math';

/** Block x[0..len) (zero-padded) as quantizeActivations' quantizeBlock does, in natural order. */
function quantizeTail(qb: usize, x: usize, len: i32, scale: usize, corr: usize, nb: usize): void {
  let amax: f32 = 0;
  for (let c = 0; c < len; c++) amax = Mathf.max(amax, Mathf.abs(load<f32>(x + (<usize>c << 2))));
  const d: f32 = amax / 127;
  const id: f32 = d != 0 ? <f32>1 / d : 0;
  let total = 0;
  for (let j = 0; j < 32; j++) {
    const q = <i32>nearest<f32>((j < len ? load<f32>(x + (<usize>j << 2)) : 0) * id);
    store<i8>(qb + <usize>j, <i8>q);
    total += q;
  }
  store<f32>(scale, d);
  store<i32>(corr, -2048 * total);
  store<i32>(corr + (nb << 2), -8 * total);
}

/** One token's codes and scales as quantizeActivationsSimd's (same d, 1/d, rounding), relaxed-Q4 layout. */
export function quantizeI8(xq: usize, x: usize, cols: i32): void {
  const k = paddedCols(cols), nb = k >> 5, full = cols >> 5;
  const scales = xq + <usize>k, corr = scales + (<usize>nb << 2);
  for (let b = 0; b < full; b++) {
    const p = x + (<usize>b << 7), qb = xq + (<usize>b << 5);
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
    v128.store(qb, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3)));
    v128.store(qb, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q4, q5), i16x8.narrow_i32x4_s(q6, q7)), 16);
    store<f32>(scales + (<usize>b << 2), d);
    const total = isum(i32x4.add(i32x4.add(i32x4.add(q0, q1), i32x4.add(q2, q3)), i32x4.add(i32x4.add(q4, q5), i32x4.add(q6, q7))));
    store<i32>(corr + (<usize>b << 2), -2048 * total);
    store<i32>(corr + (<usize>(nb + b) << 2), -8 * total);
  }
  if (full < nb) {
    const c0 = full << 5;
    quantizeTail(xq + <usize>c0, x + (<usize>c0 << 2), cols - c0, scales + (<usize>full << 2), corr + (<usize>full << 2), nb);
  }
}

/**
 * 256 × (Σ n·q - 8·Σq) of one block as four i32 partials: w its 16 nibble bytes, x its 32 codes, c its -2048·Σq.
 * The i16 form of the relaxed dot is one pmaddubsw in V8 (the i32 form adds a pmaddwd by a ones vector that V8
 * rebuilds per op); both halves' i16 pairs are added (|sum| ≤ 4·15·127, no saturation) and widened by one
 * i32x4.dot_i16x8_s against 256, which is the 256× scaling too.
 */
@inline function blockQ4Relaxed(w: usize, x: usize, c: usize): v128 {
  const v = v128.load(w), m = i8x16.splat(15);
  const lo = i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x), v128.and(v, m));
  const hi = i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x, 16), v128.and(i16x8.shr_u(v, 4), m));
  return i32x4.add(i32x4.dot_i16x8_s(i16x8.add(lo, hi), i16x8.splat(256)), v128.load32_zero(c));
}

@inline function scaled(acc: v128, s: v128, d: f32): v128 {
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(d)));
}

/** One row · one token, two blocks per step into two accumulators (as simd-quant.ts's dotRow, same scales). */
@inline export function dotRowQ4(row: usize, d: usize, xq: usize, k: usize, nb: usize): f32 {
  let w = row, x = xq, dw = d, dx = xq + k, c = dx + (nb << 2);
  const end = c;
  let a = f32x4.splat(0), b = a;
  for (; dx + 8 <= end; dx += 8) {
    a = scaled(a, blockQ4Relaxed(w, x, c), f16Div256At(load<u16>(dw)) * load<f32>(dx));
    b = scaled(b, blockQ4Relaxed(w + 16, x + 32, c + 4), f16Div256At(load<u16>(dw, 2)) * load<f32>(dx, 4));
    w += 32; x += 64; dw += 4; c += 8;
  }
  if (dx < end) a = scaled(a, blockQ4Relaxed(w, x, c), f16Div256At(load<u16>(dw)) * load<f32>(dx));
  return hsum(f32x4.add(a, b));
}

/** out[rows] = Q4_0 W[rows, cols] · x[cols]; xq: scratch of xqStride(cols) bytes. */
export function matvec_q4_0_relaxed(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32): void {
  quantizeI8(xq, x, cols);
  const k = <usize>paddedCols(cols), nb = k >> 5;
  const rowBytes = k >> 1, dBytes = nb << 1;
  for (let r = 0; r < rows; r++) {
    store<f32>(out + (<usize>r << 2), dotRowQ4(w + <usize>r * rowBytes, d + <usize>r * dBytes, xq, k, nb));
  }
}
