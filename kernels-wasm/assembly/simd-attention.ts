// f32x4 attention of one query token over nPos cached positions (grouped-query heads).
// Scores: q·k dot products over headDim; softmax; then out = Σ_t att[t] v[t], accumulated in
// registers 16 lanes of headDim at a time so each out vector is stored once, not once per position.
import { hsum } from './simd-math';
import { softmax } from './simd-vector';

@inline function fma(acc: v128, a: v128, b: v128): v128 {
  return f32x4.add(acc, f32x4.mul(a, b));
}

@inline function dot(a: usize, b: usize, n: i32): f32 {
  let s0 = f32x4.splat(0), s1 = s0;
  const end8 = <usize>(n & ~7) << 2, end4 = <usize>(n & ~3) << 2, end = <usize>n << 2;
  let j: usize = 0;
  for (; j < end8; j += 32) {
    s0 = fma(s0, v128.load(a + j), v128.load(b + j));
    s1 = fma(s1, v128.load(a + j, 16), v128.load(b + j, 16));
  }
  for (; j < end4; j += 16) s0 = fma(s0, v128.load(a + j), v128.load(b + j));
  let sum = hsum(f32x4.add(s0, s1));
  for (; j < end; j += 4) sum += load<f32>(a + j) * load<f32>(b + j);
  return sum;
}

/** out[0..headDim) = Σ_t att[t] * v[t*rowBytes ..]. */
@inline function weightedSum(out: usize, att: usize, v: usize, rowBytes: usize, headDim: i32, nPos: i32): void {
  const end16 = <usize>(headDim & ~15) << 2, end4 = <usize>(headDim & ~3) << 2, end = <usize>headDim << 2;
  let d: usize = 0;
  for (; d < end16; d += 64) {
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    let vt = v + d;
    for (let t = 0; t < nPos; t++) {
      const w = v128.load32_splat(att + (<usize>t << 2));
      a0 = fma(a0, w, v128.load(vt)); a1 = fma(a1, w, v128.load(vt, 16));
      a2 = fma(a2, w, v128.load(vt, 32)); a3 = fma(a3, w, v128.load(vt, 48));
      vt += rowBytes;
    }
    v128.store(out + d, a0); v128.store(out + d, a1, 16); v128.store(out + d, a2, 32); v128.store(out + d, a3, 48);
  }
  for (; d < end4; d += 16) {
    let a0 = f32x4.splat(0);
    let vt = v + d;
    for (let t = 0; t < nPos; t++) {
      a0 = fma(a0, v128.load32_splat(att + (<usize>t << 2)), v128.load(vt));
      vt += rowBytes;
    }
    v128.store(out + d, a0);
  }
  for (; d < end; d += 4) {
    let s: f32 = 0;
    let vt = v + d;
    for (let t = 0; t < nPos; t++) {
      s += load<f32>(att + (<usize>t << 2)) * load<f32>(vt);
      vt += rowBytes;
    }
    store<f32>(out + d, s);
  }
}

export function attention(
  out: usize, q: usize, kCache: usize, vCache: usize, att: usize,
  nHeads: i32, nKvHeads: i32, headDim: i32, nPos: i32,
): void {
  const rowBytes = <usize>(nKvHeads * headDim) << 2;
  const headBytes = <usize>headDim << 2;
  const group = nHeads / nKvHeads;
  const scale = Mathf.sqrt(<f32>headDim);
  for (let h = 0; h < nHeads; h++) {
    const qh = q + <usize>h * headBytes;
    const kvOff = <usize>(h / group) * headBytes;
    const ah = att + (<usize>(h * nPos) << 2);
    let kt = kCache + kvOff;
    for (let t = 0; t < nPos; t++) {
      store<f32>(ah + (<usize>t << 2), dot(qh, kt, headDim) / scale);
      kt += rowBytes;
    }
    softmax(ah, nPos);
    weightedSum(out + <usize>h * headBytes, ah, vCache + kvOff, rowBytes, headDim, nPos);
  }
}
