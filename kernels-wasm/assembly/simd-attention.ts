// f32x4 attention of one query token over nPos cached positions (grouped-query heads).
// Position-major: the KV cache of a layer is megabytes (DRAM, not cache), so K and V are each read
// as one sequential stream, row t for all heads at once, rather than head by head at a stride.
// Scores for all heads, then softmax per head, then out += att[h][t] * v[t] with out resident in L1.
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
  for (let t = 0; t < nPos; t++) {
    const at = att + (<usize>t << 2);
    for (let h = 0; h < nHeads; h++) {
      const score = dot(q + <usize>h * headBytes, kt + <usize>(h / group) * headBytes, headDim) / scale;
      store<f32>(at + <usize>h * posBytes, score);
    }
    kt += rowBytes;
  }
  for (let h = 0; h < nHeads; h++) softmax(att + <usize>h * posBytes, nPos);
  memory.fill(out, 0, <usize>nHeads * headBytes);
  let vt = vCache;
  for (let t = 0; t < nPos; t++) {
    const at = att + (<usize>t << 2);
    for (let h = 0; h < nHeads; h++) {
      axpy(out + <usize>h * headBytes, load<f32>(at + <usize>h * posBytes), vt + <usize>(h / group) * headBytes, headDim);
    }
    vt += rowBytes;
  }
}
