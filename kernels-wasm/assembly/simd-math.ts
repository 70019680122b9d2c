// SIMD helpers shared by the f32x4 kernels: horizontal sums and a vector expf.

@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Horizontal sums of four vectors, as one vector [sum(a), sum(b), sum(c), sum(d)]. */
@inline export function hsum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(a, b, 2, 6, 3, 7)); // a01 b01 a23 b23
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}

// Cephes expf: exp(x) = 2^n * exp(r), n = round(x / ln2), r = x - n ln2 (ln2 split in two for exactness),
// exp(r) by a degree-6 polynomial. About 1 ulp. Beyond ln(FLT_MAX) it returns +inf; below -87.3 (near
// 2^-126) it flushes to 0. n stays <= 127 so 2^n is a normal float; r then reaches 0.7, still accurate.
const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const EXP_HI: f32 = 88.72283935546875;
const EXP_LO: f32 = -87.3;
/** 1.5 · 2^23: v + it rounds v to an integer, ties to even (as nearest), for |v| < 2^22; its bits are ROUND_MAGIC_BITS. */
const ROUND_MAGIC: f32 = 12582912;
const ROUND_MAGIC_BITS = 0x4b400000;

@inline function mad(a: v128, b: v128, c: v128): v128 {
  return f32x4.add(f32x4.mul(a, b), c);
}

@inline export function vexp(x0: v128): v128 {
  // pmin/pmax (one minps/maxps) and the magic-number round instead of min/max (V8 adds NaN and ±0 fix-ups)
  // and nearest + trunc_sat: the same values for every input, NaN still gives NaN.
  const x = f32x4.pmax(f32x4.pmin(x0, f32x4.splat(EXP_HI)), f32x4.splat(EXP_LO));
  const t = f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(ROUND_MAGIC)); // round(x·log2e) in t's low bits
  const n = f32x4.pmin(f32x4.sub(t, f32x4.splat(ROUND_MAGIC)), f32x4.splat(127));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  const z = f32x4.mul(r, r);
  let y = f32x4.splat(1.9875691500e-4);
  y = mad(y, r, f32x4.splat(1.3981999507e-3));
  y = mad(y, r, f32x4.splat(8.3334519073e-3));
  y = mad(y, r, f32x4.splat(4.1665795894e-2));
  y = mad(y, r, f32x4.splat(1.6666665459e-1));
  y = mad(y, r, f32x4.splat(5.0000001201e-1));
  y = f32x4.add(mad(y, z, r), f32x4.splat(1));
  const ni = i32x4.min_s(i32x4.sub(t, i32x4.splat(ROUND_MAGIC_BITS)), i32x4.splat(127));
  const pow2n = i32x4.shl(i32x4.add(ni, i32x4.splat(127)), 23);
  const e = v128.andnot(f32x4.mul(y, pow2n), f32x4.lt(x0, f32x4.splat(EXP_LO)));
  return v128.bitselect(f32x4.splat(Infinity), e, f32x4.gt(x0, f32x4.splat(EXP_HI)));
}
