// f32x4 versions of the element-wise ops: rmsnorm, softmax, swiglu, add, rope.
// Each does whole vectors first, then a scalar tail for n % 4 with the scalar twin's expression.
import { ropeAngle, ropeCos, ropeSin, silu } from './math';
import { hsum, vexp } from './simd-math';

export function rmsnorm(out: usize, x: usize, weight: usize, n: i32, eps: f32): void {
  let a = f32x4.splat(0), b = a;
  const end8 = <usize>(n & ~7) << 2, end4 = <usize>(n & ~3) << 2, end = <usize>n << 2;
  let j: usize = 0;
  for (; j < end8; j += 32) {
    const v0 = v128.load(x + j), v1 = v128.load(x + j, 16);
    a = f32x4.add(a, f32x4.mul(v0, v0));
    b = f32x4.add(b, f32x4.mul(v1, v1));
  }
  for (; j < end4; j += 16) {
    const v = v128.load(x + j);
    a = f32x4.add(a, f32x4.mul(v, v));
  }
  let ss = hsum(f32x4.add(a, b));
  for (; j < end; j += 4) ss += load<f32>(x + j) * load<f32>(x + j);
  ss = <f32>1 / Mathf.sqrt(ss / <f32>n + eps);
  const sv = f32x4.splat(ss);
  // Reads x[j] before writing out[j] at the same j, so out may alias x.
  for (j = 0; j < end4; j += 16) v128.store(out + j, f32x4.mul(v128.load(weight + j), f32x4.mul(sv, v128.load(x + j))));
  for (; j < end; j += 4) store<f32>(out + j, load<f32>(weight + j) * (ss * load<f32>(x + j)));
}

export function softmax(x: usize, n: i32): void {
  const end4 = <usize>(n & ~3) << 2, end = <usize>n << 2;
  let mv = f32x4.splat(-Infinity);
  let j: usize = 0;
  for (; j < end4; j += 16) mv = f32x4.max(mv, v128.load(x + j));
  let max = Mathf.max(Mathf.max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)),
    Mathf.max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  for (; j < end; j += 4) max = Mathf.max(max, load<f32>(x + j));
  const maxv = f32x4.splat(max);
  let sv = f32x4.splat(0);
  for (j = 0; j < end4; j += 16) {
    const e = vexp(f32x4.sub(v128.load(x + j), maxv));
    v128.store(x + j, e);
    sv = f32x4.add(sv, e);
  }
  let sum = hsum(sv);
  for (; j < end; j += 4) {
    const e = Mathf.exp(load<f32>(x + j) - max);
    store<f32>(x + j, e);
    sum += e;
  }
  const sumv = f32x4.splat(sum);
  for (j = 0; j < end4; j += 16) v128.store(x + j, f32x4.div(v128.load(x + j), sumv));
  for (; j < end; j += 4) store<f32>(x + j, load<f32>(x + j) / sum);
}

export function swiglu(a: usize, b: usize, n: i32): void {
  const end4 = <usize>(n & ~3) << 2, end = <usize>n << 2;
  const one = f32x4.splat(1);
  let j: usize = 0;
  for (; j < end4; j += 16) {
    const v = v128.load(a + j);
    const sig = f32x4.div(one, f32x4.add(one, vexp(f32x4.neg(v))));
    v128.store(a + j, f32x4.mul(f32x4.mul(v, sig), v128.load(b + j)));
  }
  for (; j < end; j += 4) store<f32>(a + j, silu(load<f32>(a + j)) * load<f32>(b + j));
}

export function add(a: usize, b: usize, n: i32): void {
  const end8 = <usize>(n & ~7) << 2, end4 = <usize>(n & ~3) << 2, end = <usize>n << 2;
  let j: usize = 0;
  for (; j < end8; j += 32) {
    v128.store(a + j, f32x4.add(v128.load(a + j), v128.load(b + j)));
    v128.store(a + j, f32x4.add(v128.load(a + j, 16), v128.load(b + j, 16)), 16);
  }
  for (; j < end4; j += 16) v128.store(a + j, f32x4.add(v128.load(a + j), v128.load(b + j)));
  for (; j < end; j += 4) store<f32>(a + j, load<f32>(a + j) + load<f32>(b + j));
}

/** Rotates pairs (i, i+1) and (i+2, i+3) of `count` head vectors starting at p, headDim apart. */
@inline function rotate2(p: usize, count: i32, headBytes: usize, cv: v128, sv: v128): void {
  for (let h = 0; h < count; h++) {
    const v = v128.load(p);
    const swapped = v128.shuffle<f32>(v, v, 1, 0, 3, 2);
    // [v0 c0 - v1 s0, v1 c0 + v0 s0, ...]: the same products and sums as the scalar twin, so bit-equal.
    v128.store(p, f32x4.add(f32x4.mul(v, cv), f32x4.mul(swapped, sv)));
    p += headBytes;
  }
}

@inline function rotate1(p: usize, count: i32, headBytes: usize, c: f32, s: f32): void {
  for (let h = 0; h < count; h++) {
    const v0 = load<f32>(p), v1 = load<f32>(p, 4);
    store<f32>(p, v0 * c - v1 * s);
    store<f32>(p, v0 * s + v1 * c, 4);
    p += headBytes;
  }
}

/** rope's cos/sin vectors of the last (pos, headDim, theta): the layers of one token share them (12 layers: 12× fewer pow/cos/sin). */
const ROPE_MAX_DIM = 512;
const ROPE_TABLE = memory.data((ROPE_MAX_DIM >> 2) << 5, 16); // per 4-element step: cv, then sv
let ropePos = -1, ropeDim = -1, ropeTheta: f32 = 0;

export function rope(q: usize, k: usize, nHeads: i32, nKvHeads: i32, headDim: i32, pos: i32, theta: f32): void {
  const headBytes = <usize>headDim << 2;
  const cached = pos == ropePos && headDim == ropeDim && theta == ropeTheta;
  const cacheable = headDim <= ROPE_MAX_DIM;
  let i = 0;
  for (; i + 4 <= headDim; i += 4) {
    const t = ROPE_TABLE + (<usize>i << 3);
    let cv: v128, sv: v128;
    if (cached) {
      cv = v128.load(t); sv = v128.load(t, 16);
    } else {
      ropeAngle(i, headDim, pos, theta);
      const c0 = ropeCos, s0 = ropeSin;
      ropeAngle(i + 2, headDim, pos, theta);
      cv = f32x4(c0, c0, ropeCos, ropeCos);
      sv = f32x4(-s0, s0, -ropeSin, ropeSin);
      if (cacheable) { v128.store(t, cv); v128.store(t, sv, 16); }
    }
    const off = <usize>i << 2;
    rotate2(q + off, nHeads, headBytes, cv, sv);
    rotate2(k + off, nKvHeads, headBytes, cv, sv);
  }
  if (cacheable) { ropePos = pos; ropeDim = headDim; ropeTheta = theta; }
  if (i < headDim) {
    ropeAngle(i, headDim, pos, theta);
    rotate1(q + (<usize>i << 2), nHeads, headBytes, ropeCos, ropeSin);
    rotate1(k + (<usize>i << 2), nKvHeads, headBytes, ropeCos, ropeSin);
  }
}
