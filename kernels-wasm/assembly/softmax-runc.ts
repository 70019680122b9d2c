// run.c's softmax as the JS sampler computes it (engine/sampling/sampler.ts softmaxF32), bit for bit, with the
// exponentials two at a time: x[i] = f32(exp(f64(f32(x[i] - max)))), their sum accumulated in f32 in index order,
// then x[i] / sum in f32; and logprobs.ts logSumExp's f64 sum of exp(x[i] - max), bit for bit. exp is fdlibm's
// __ieee754_exp (what V8's Math.exp is: a JS port of it matched Math.exp on 10M inputs, bench/RESULTS.md
// 2026-12-08) over f64x2 lanes, its branches as selects, for x ≤ 0 and NaN — these kernels' only inputs
// (x - max). Its subnormal results (x < -708.05) are 0 here, which no output can see: their f32 is 0, and a sum
// that holds exp(0) = 1 does not move by them. f32 ops on f32 values equal the JS f64 op rounded to f32
// (53 ≥ 2·24 + 2), so every step is the JS one. Math.exp's C call was 10 ns an element: 0.2 ms of a
// 20,755-id sampling step.
const LN2_HI: f64 = 6.93147180369123816490e-1;
const LN2_LO: f64 = 1.90821492927058770002e-10;
const INV_LN2: f64 = 1.44269504088896338700e+0;
const P1: f64 = 1.66666666666666019037e-1;
const P2: f64 = -2.77777777770155933842e-3;
const P3: f64 = 6.61375632143793436117e-5;
const P4: f64 = -1.65339022054652515390e-6;
const P5: f64 = 4.13813679705723846039e-8;

/** |x| thresholds of fdlibm's high-word tests, as f64 (the high word with a zero low word). */
@inline function fromHigh(hi: u64): f64 {
  return reinterpret<f64>(hi << 32);
}

/** fdlibm exp of two lanes, each ≤ 0 or NaN (results under 2^-1022 as 0: see below). */
@inline function exp2Lanes(x: v128): v128 {
  const ax = f64x2.abs(x);
  // |x| > 0.5 ln2 (hx > 0x3fd62e42): reduced by k = (int)(x/ln2 - 0.5) (x ≤ 0; also the 1.5 ln2 branch's k = -1).
  // Otherwise k = 0, so hi = x, lo = 0 and 2^k = 1 exactly, and fdlibm's k = 0 formula 1 - ((x·c)/(c - 2) - x)
  // is the general one's bit for bit (a/(c - 2) = -(a/(2 - c)), 0 - q = -q): one formula, one division.
  const reduce = f64x2.ge(ax, f64x2.splat(fromHigh(0x3fd62e43)));
  const kf = f64x2.convert_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(f64x2.sub(f64x2.mul(x, f64x2.splat(INV_LN2)), f64x2.splat(0.5))));
  const k = v128.and(kf, reduce);
  const hi = f64x2.sub(x, f64x2.mul(k, f64x2.splat(LN2_HI)));
  const lo = f64x2.mul(k, f64x2.splat(LN2_LO));
  const r = f64x2.sub(hi, lo);
  const t = f64x2.mul(r, r);
  let p = f64x2.add(f64x2.splat(P4), f64x2.mul(t, f64x2.splat(P5)));
  p = f64x2.add(f64x2.splat(P3), f64x2.mul(t, p));
  p = f64x2.add(f64x2.splat(P2), f64x2.mul(t, p));
  p = f64x2.add(f64x2.splat(P1), f64x2.mul(t, p));
  const c = f64x2.sub(r, f64x2.mul(t, p));
  // 1 - ((lo - (x·c)/(2 - c)) - hi)
  const y = f64x2.sub(f64x2.splat(1), f64x2.sub(f64x2.sub(lo, f64x2.div(f64x2.mul(r, c), f64x2.sub(f64x2.splat(2), c))), hi));
  // 2^k by its bits. Below k = -1021 (x < -708.05) fdlibm's result is subnormal: 0 here instead, which changes
  // no output of this file's kernels (an f32 of it is 0, and a sum holding exp(0) = 1 does not move).
  const ki = i64x2.extend_low_i32x4_s(i32x4.trunc_sat_f64x2_s_zero(k));
  let e = f64x2.mul(y, i64x2.shl(i64x2.add(ki, i64x2.splat(1023)), 52));
  e = v128.andnot(e, i64x2.lt_s(ki, i64x2.splat(-1021))); // also x < -745.13 and -Infinity: 0
  // |x| < 2^-28: 1 + x. NaN needs no care: it runs through the arithmetic (k = 0) as NaN.
  return v128.bitselect(f64x2.add(f64x2.splat(1), x), e, f64x2.lt(ax, f64x2.splat(fromHigh(0x3e300000))));
}

/**
 * softmaxF32 of x[0, n) in place (max subtracted, exp, f32 sum in order, divide). Returns the sum. Scratch: none.
 */
export function softmax_runc(x: usize, n: i32): f32 {
  let max = load<f32>(x);
  for (let i = 1; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    if (v > max) max = v;
  }
  const m = f32x4.splat(max);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const p = x + (<usize>i << 2);
    const d = f32x4.sub(v128.load(p), m);
    const lo = exp2Lanes(f64x2.promote_low_f32x4(d));
    const hi = exp2Lanes(f64x2.promote_low_f32x4(v128.shuffle<f32>(d, d, 2, 3, 0, 1)));
    v128.store(p, v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5));
  }
  for (; i < n; i++) {
    const p = x + (<usize>i << 2);
    const d = f64x2.splat(<f64>(load<f32>(p) - max));
    store<f32>(p, <f32>f64x2.extract_lane(exp2Lanes(d), 0));
  }
  let sum: f32 = 0;
  for (let j = 0; j < n; j++) sum += load<f32>(x + (<usize>j << 2));
  const s = f32x4.splat(sum);
  i = 0;
  for (; i + 4 <= n; i += 4) v128.store(x + (<usize>i << 2), f32x4.div(v128.load(x + (<usize>i << 2)), s));
  for (; i < n; i++) store<f32>(x + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) / sum);
  return sum;
}

/**
 * Σ exp(f64(x[i]) - max) over x[0, n) in index order, in f64 (engine/sampling/logprobs.ts logSumExp's sum, bit for
 * bit: the same fdlibm exp, the same order). x[i] - max ≤ 0 or NaN, as there.
 */
export function exp_sum_runc(x: usize, n: i32, max: f64): f64 {
  const m = f64x2.splat(max);
  let sum: f64 = 0;
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const e = exp2Lanes(f64x2.sub(f64x2.promote_low_f32x4(v128.load64_zero(x + (<usize>i << 2))), m));
    sum += f64x2.extract_lane(e, 0);
    sum += f64x2.extract_lane(e, 1);
  }
  if (i < n) sum += f64x2.extract_lane(exp2Lanes(f64x2.splat(<f64>load<f32>(x + (<usize>i << 2)) - max)), 0);
  return sum;
}

/**
 * The speculative sampler's distribution without truncation (engine/sampling/spec-sampler.ts), bit for bit: x[i] =
 * f32(f64(x[i]) / t), softmax_runc, then mass = Σ f64(x[i]) over x[i] > 0 in index order and out[i] = f64(x[i]) /
 * mass where x[i] > 0, else 0 (f64 out). Returns the mass; where it is not > 0, out is left for the caller.
 */
export function spec_distribution(x: usize, n: i32, t: f64, out: usize): f64 {
  let i = 0;
  const tv = f64x2.splat(t);
  for (; i + 4 <= n; i += 4) {
    const p = x + (<usize>i << 2);
    const v = v128.load(p);
    const lo = f32x4.demote_f64x2_zero(f64x2.div(f64x2.promote_low_f32x4(v), tv));
    const hi = f32x4.demote_f64x2_zero(f64x2.div(f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 0, 1)), tv));
    v128.store(p, v128.shuffle<f32>(lo, hi, 0, 1, 4, 5));
  }
  for (; i < n; i++) store<f32>(x + (<usize>i << 2), <f32>(<f64>load<f32>(x + (<usize>i << 2)) / t));
  softmax_runc(x, n);
  let mass: f64 = 0;
  for (let j = 0; j < n; j++) {
    const v = load<f32>(x + (<usize>j << 2));
    if (v > 0) mass += <f64>v;
  }
  if (!(mass > 0)) return mass;
  const m = f64x2.splat(mass), zero = f64x2.splat(0);
  i = 0;
  for (; i + 2 <= n; i += 2) {
    const v = f64x2.promote_low_f32x4(v128.load64_zero(x + (<usize>i << 2)));
    v128.store(out + (<usize>i << 3), v128.and(f64x2.div(v, m), f64x2.gt(v, zero)));
  }
  if (i < n) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    store<f64>(out + (<usize>i << 3), v > 0 ? v / mass : 0);
  }
  return mass;
}
