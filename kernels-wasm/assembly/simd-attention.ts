// f32x4 attention of one query token over nPos cached positions (grouped-query heads).
// Position-major: the KV cache of a layer is megabytes (DRAM, not cache), so K and V are each read
// as one sequential stream, row t for all heads at once, rather than head by head at a stride.
// Scores for all heads, then softmax per head, then out += att[h][t] * v[t] with out resident in L1,
// four positions per pass over out. Every sum is in the scalar twin's order per element (hsum's for the dots).
import { hsum } from './simd-math';
import { softmax } from './simd-vector';

/** acc + a*b, rounded twice: plain SIMD has no fused multiply-add (relaxed SIMD's is not deterministic). */
@inline function madd(acc: v128, a: v128, b: v128): v128 {
  return f32x4.add(acc, f32x4.mul(a, b));
}

@inline function dot(a: usize, b: usize, n: i32): f32 {
  let s0 = f32x4.splat(0), s1 = s0;
  const end8 = <usize>(n & ~7) << 2, end4 = <usize>(n & ~3) << 2, end = <usize>n << 2;
  let j: usize = 0;
  for (; j < end8; j += 32) {
    s0 = madd(s0, v128.load(a + j), v128.load(b + j));
    s1 = madd(s1, v128.load(a + j, 16), v128.load(b + j, 16));
  }
  for (; j < end4; j += 16) s0 = madd(s0, v128.load(a + j), v128.load(b + j));
  let sum = hsum(f32x4.add(s0, s1));
  for (; j < end; j += 4) sum += load<f32>(a + j) * load<f32>(b + j);
  return sum;
}

/** y[0..n) += a * x[0..n); per element the same rounding as the scalar twin's loop. */
@inline function axpy(y: usize, a: f32, x: usize, n: i32): void {
  const av = f32x4.splat(a);
  const end8 = <usize>(n & ~7) << 2, end4 = <usize>(n & ~3) << 2, end = <usize>n << 2;
  let j: usize = 0;
  for (; j < end8; j += 32) {
    v128.store(y + j, madd(v128.load(y + j), av, v128.load(x + j)));
    v128.store(y + j, madd(v128.load(y + j, 16), av, v128.load(x + j, 16)), 16);
  }
  for (; j < end4; j += 16) v128.store(y + j, madd(v128.load(y + j), av, v128.load(x + j)));
  for (; j < end; j += 4) store<f32>(y + j, load<f32>(y + j) + a * load<f32>(x + j));
}

/**
 * y[0..n) += a0·x0 + a1·x1 + a2·x2 + a3·x3 for four positions' rows (x0 + i·rowBytes), added one after the other
 * per element as four axpy calls would (so the same rounding), but y is loaded and stored once, not four times.
 */
@inline function axpy4(y: usize, a0: f32, a1: f32, a2: f32, a3: f32, x0: usize, rowBytes: usize, n: i32): void {
  const v0 = f32x4.splat(a0), v1 = f32x4.splat(a1), v2 = f32x4.splat(a2), v3 = f32x4.splat(a3);
  const x1 = x0 + rowBytes, x2 = x1 + rowBytes, x3 = x2 + rowBytes;
  const end4 = <usize>(n & ~3) << 2, end = <usize>n << 2;
  let j: usize = 0;
  for (; j < end4; j += 16) {
    const o = madd(madd(madd(madd(v128.load(y + j), v0, v128.load(x0 + j)), v1, v128.load(x1 + j)), v2, v128.load(x2 + j)), v3, v128.load(x3 + j));
    v128.store(y + j, o);
  }
  for (; j < end; j += 4) {
    store<f32>(y + j, load<f32>(y + j) + a0 * load<f32>(x0 + j) + a1 * load<f32>(x1 + j) + a2 * load<f32>(x2 + j) + a3 * load<f32>(x3 + j));
  }
}

/** Horizontal sums of four vectors in hsum's order ((l0 + l1) + (l2 + l3)), so each equals hsum of its vector. */
@inline function hsum4Ordered(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 2, 6), v128.shuffle<f32>(a, b, 1, 5, 3, 7)); // a01 b01 a23 b23
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 2, 6), v128.shuffle<f32>(c, d, 1, 5, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}

/** dot()'s two accumulators, summed (headDim % 8 == 0: no tails), for hsum4Ordered to finish four at once. */
@inline function dotLanes(a: usize, b: usize, n: i32): v128 {
  let s0 = f32x4.splat(0), s1 = s0;
  const end = <usize>n << 2;
  for (let j: usize = 0; j < end; j += 32) {
    s0 = madd(s0, v128.load(a + j), v128.load(b + j));
    s1 = madd(s1, v128.load(a + j, 16), v128.load(b + j, 16));
  }
  return f32x4.add(s0, s1);
}

export function attention(
  out: usize, q: usize, kCache: usize, vCache: usize, att: usize,
  nHeads: i32, nKvHeads: i32, headDim: i32, nPos: i32,
): void {
  const rowBytes = <usize>(nKvHeads * headDim) << 2;
  const headBytes = <usize>headDim << 2;
  const posBytes = <usize>nPos << 2;
  const group = nHeads / nKvHeads;
  const scale = Mathf.sqrt(<f32>headDim);
  let kt = kCache;
  // Four heads' scores finish together (one transpose-add, one vector divide), bit-equal to dot()'s one by one.
  const heads4 = (headDim & 7) == 0 ? nHeads & ~3 : 0;
  const scalev = f32x4.splat(scale);
  for (let t = 0; t < nPos; t++) {
    const at = att + (<usize>t << 2);
    let h = 0;
    for (; h < heads4; h += 4) {
      const s = f32x4.div(hsum4Ordered(
        dotLanes(q + <usize>h * headBytes, kt + <usize>(h / group) * headBytes, headDim),
        dotLanes(q + <usize>(h + 1) * headBytes, kt + <usize>((h + 1) / group) * headBytes, headDim),
        dotLanes(q + <usize>(h + 2) * headBytes, kt + <usize>((h + 2) / group) * headBytes, headDim),
        dotLanes(q + <usize>(h + 3) * headBytes, kt + <usize>((h + 3) / group) * headBytes, headDim)), scalev);
      const p = at + <usize>h * posBytes;
      store<f32>(p, f32x4.extract_lane(s, 0));
      store<f32>(p + posBytes, f32x4.extract_lane(s, 1));
      store<f32>(p + 2 * posBytes, f32x4.extract_lane(s, 2));
      store<f32>(p + 3 * posBytes, f32x4.extract_lane(s, 3));
    }
    for (; h < nHeads; h++) {
      const score = dot(q + <usize>h * headBytes, kt + <usize>(h / group) * headBytes, headDim) / scale;
      store<f32>(at + <usize>h * posBytes, score);
    }
    kt += rowBytes;
  }
  for (let h = 0; h < nHeads; h++) softmax(att + <usize>h * posBytes, nPos);
  memory.fill(out, 0, <usize>nHeads * headBytes);
  let vt = vCache;
  let t = 0;
  for (; t + 4 <= nPos; t += 4) {
    const at = att + (<usize>t << 2);
    for (let h = 0; h < nHeads; h++) {
      const ah = at + <usize>h * posBytes;
      axpy4(out + <usize>h * headBytes, load<f32>(ah), load<f32>(ah, 4), load<f32>(ah, 8), load<f32>(ah, 12),
        vt + <usize>(h / group) * headBytes, rowBytes, headDim);
    }
    vt += rowBytes << 2;
  }
  for (; t < nPos; t++) {
    const at = att + (<usize>t << 2);
    for (let h = 0; h < nHeads; h++) {
      axpy(out + <usize>h * headBytes, load<f32>(at + <usize>h * posBytes), vt + <usize>(h / group) * headBytes, headDim);
    }
    vt += rowBytes;
  }
}
