// f32x4 dot-product tiles shared by matvec and matmul: rows of W (row-major, `stride` bytes apart)
// against token vectors x, each tile with independent accumulators and tails for cols % 4 != 0.
import { hsum, hsum4 } from './simd-math';

/** acc + a*b, rounded twice: plain SIMD has no fused multiply-add (relaxed SIMD's is not deterministic). */
@inline function madd(acc: v128, a: v128, b: v128): v128 {
  return f32x4.add(acc, f32x4.mul(a, b));
}

/** out[0] = w0 · x over cols, four accumulators. */
@inline export function dot1(w0: usize, x: usize, cols: i32): f32 {
  let a = f32x4.splat(0), b = a, c = a, d = a;
  const end16 = <usize>(cols & ~15) << 2;
  const end4 = <usize>(cols & ~3) << 2;
  let j: usize = 0;
  for (; j < end16; j += 64) {
    a = madd(a, v128.load(w0 + j), v128.load(x + j));
    b = madd(b, v128.load(w0 + j, 16), v128.load(x + j, 16));
    c = madd(c, v128.load(w0 + j, 32), v128.load(x + j, 32));
    d = madd(d, v128.load(w0 + j, 48), v128.load(x + j, 48));
  }
  for (; j < end4; j += 16) a = madd(a, v128.load(w0 + j), v128.load(x + j));
  let sum = hsum(f32x4.add(f32x4.add(a, b), f32x4.add(c, d)));
  const end = <usize>cols << 2;
  for (; j < end; j += 4) sum += load<f32>(w0 + j) * load<f32>(x + j);
  return sum;
}

/** outA = wa · x, outB = wb · x, each row's sums in dot1's order (bit-identical), the x loads shared. */
@inline export function dot1rows2(outA: usize, outB: usize, wa: usize, wb: usize, x: usize, cols: i32): void {
  let a0 = f32x4.splat(0), b0 = a0, c0 = a0, d0 = a0, a1 = a0, b1 = a0, c1 = a0, d1 = a0;
  const end16 = <usize>(cols & ~15) << 2;
  const end4 = <usize>(cols & ~3) << 2;
  let j: usize = 0;
  for (; j < end16; j += 64) {
    const x0 = v128.load(x + j), x1 = v128.load(x + j, 16);
    a0 = madd(a0, v128.load(wa + j), x0); a1 = madd(a1, v128.load(wb + j), x0);
    b0 = madd(b0, v128.load(wa + j, 16), x1); b1 = madd(b1, v128.load(wb + j, 16), x1);
    const x2 = v128.load(x + j, 32), x3 = v128.load(x + j, 48);
    c0 = madd(c0, v128.load(wa + j, 32), x2); c1 = madd(c1, v128.load(wb + j, 32), x2);
    d0 = madd(d0, v128.load(wa + j, 48), x3); d1 = madd(d1, v128.load(wb + j, 48), x3);
  }
  for (; j < end4; j += 16) {
    const xv = v128.load(x + j);
    a0 = madd(a0, v128.load(wa + j), xv); a1 = madd(a1, v128.load(wb + j), xv);
  }
  let sa = hsum(f32x4.add(f32x4.add(a0, b0), f32x4.add(c0, d0)));
  let sb = hsum(f32x4.add(f32x4.add(a1, b1), f32x4.add(c1, d1)));
  const end = <usize>cols << 2;
  for (; j < end; j += 4) {
    const xj = load<f32>(x + j);
    sa += load<f32>(wa + j) * xj;
    sb += load<f32>(wb + j) * xj;
  }
  store<f32>(outA, sa);
  store<f32>(outB, sb);
}

/** out[0..4) = rows w0, w0+stride, .. · x. */
@inline export function dot4(out: usize, w0: usize, stride: usize, x: usize, cols: i32): void {
  const w1 = w0 + stride, w2 = w1 + stride, w3 = w2 + stride;
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  const end8 = <usize>(cols & ~7) << 2;
  const end4 = <usize>(cols & ~3) << 2;
  let j: usize = 0;
  for (; j < end8; j += 32) {
    const x0 = v128.load(x + j), x1 = v128.load(x + j, 16);
    a0 = madd(a0, v128.load(w0 + j), x0); b0 = madd(b0, v128.load(w0 + j, 16), x1);
    a1 = madd(a1, v128.load(w1 + j), x0); b1 = madd(b1, v128.load(w1 + j, 16), x1);
    a2 = madd(a2, v128.load(w2 + j), x0); b2 = madd(b2, v128.load(w2 + j, 16), x1);
    a3 = madd(a3, v128.load(w3 + j), x0); b3 = madd(b3, v128.load(w3 + j, 16), x1);
  }
  if (j < end4) {
    const x0 = v128.load(x + j);
    a0 = madd(a0, v128.load(w0 + j), x0); a1 = madd(a1, v128.load(w1 + j), x0);
    a2 = madd(a2, v128.load(w2 + j), x0); a3 = madd(a3, v128.load(w3 + j), x0);
    j += 16;
  }
  let s = hsum4(f32x4.add(a0, b0), f32x4.add(a1, b1), f32x4.add(a2, b2), f32x4.add(a3, b3));
  const end = <usize>cols << 2;
  for (; j < end; j += 4) {
    const xj = f32x4.splat(load<f32>(x + j));
    const wj = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(load<f32>(w0 + j)),
      1, load<f32>(w1 + j)), 2, load<f32>(w2 + j)), 3, load<f32>(w3 + j));
    s = madd(s, wj, xj);
  }
  v128.store(out, s);
}

/** Rows w0..w0+4*stride times two token vectors xa, xb; results to outA[0..4), outB[0..4). */
@inline export function dot4x2(outA: usize, outB: usize, w0: usize, stride: usize, xa: usize, xb: usize, cols: i32): void {
  const w1 = w0 + stride, w2 = w1 + stride, w3 = w2 + stride;
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  const end4 = <usize>(cols & ~3) << 2;
  let j: usize = 0;
  for (; j < end4; j += 16) {
    const x0 = v128.load(xa + j), x1 = v128.load(xb + j);
    let wv = v128.load(w0 + j); a0 = madd(a0, wv, x0); b0 = madd(b0, wv, x1);
    wv = v128.load(w1 + j); a1 = madd(a1, wv, x0); b1 = madd(b1, wv, x1);
    wv = v128.load(w2 + j); a2 = madd(a2, wv, x0); b2 = madd(b2, wv, x1);
    wv = v128.load(w3 + j); a3 = madd(a3, wv, x0); b3 = madd(b3, wv, x1);
  }
  let sa = hsum4(a0, a1, a2, a3), sb = hsum4(b0, b1, b2, b3);
  const end = <usize>cols << 2;
  for (; j < end; j += 4) {
    const wj = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(load<f32>(w0 + j)),
      1, load<f32>(w1 + j)), 2, load<f32>(w2 + j)), 3, load<f32>(w3 + j));
    sa = madd(sa, wj, f32x4.splat(load<f32>(xa + j)));
    sb = madd(sb, wj, f32x4.splat(load<f32>(xb + j)));
  }
  v128.store(outA, sa);
  v128.store(outB, sb);
}

/** One row w0 times two token vectors xa, xb: each weight vector loaded once serves both tokens. */
@inline export function dot1x2(outA: usize, outB: usize, w0: usize, xa: usize, xb: usize, cols: i32): void {
  let a0 = f32x4.splat(0), a1 = a0, b0 = a0, b1 = a0;
  const end8 = <usize>(cols & ~7) << 2, end4 = <usize>(cols & ~3) << 2, end = <usize>cols << 2;
  let j: usize = 0;
  for (; j < end8; j += 32) {
    const v0 = v128.load(w0 + j), v1 = v128.load(w0 + j, 16);
    a0 = madd(a0, v0, v128.load(xa + j)); a1 = madd(a1, v1, v128.load(xa + j, 16));
    b0 = madd(b0, v0, v128.load(xb + j)); b1 = madd(b1, v1, v128.load(xb + j, 16));
  }
  for (; j < end4; j += 16) {
    const v0 = v128.load(w0 + j);
    a0 = madd(a0, v0, v128.load(xa + j));
    b0 = madd(b0, v0, v128.load(xb + j));
  }
  let sa = hsum(f32x4.add(a0, a1)), sb = hsum(f32x4.add(b0, b1));
  for (; j < end; j += 4) {
    const wj = load<f32>(w0 + j);
    sa += wj * load<f32>(xa + j);
    sb += wj * load<f32>(xb + j);
  }
  store<f32>(outA, sa);
  store<f32>(outB, sb);
}

