// f32x4 matvec/matmul. matvec is memory-bound (a model's weights never fit in cache), so it reads W
// as one sequential stream, a row at a time with four independent accumulators: measured on Zen 5,
// that runs at ~95% of a plain read loop from DRAM, while interleaving 4 rows (to reuse x from
// registers) halved the DRAM rate — x is in L1 anyway. matmul is compute-bound: it tiles 4 rows x 2
// tokens, so each weight vector loaded serves two tokens, and chunks tokens so their x rows stay in
// L2 while each 4-row block of W sits in L1 for the whole chunk.
import { hsum, hsum4 } from './simd-math';

@inline function fma(acc: v128, a: v128, b: v128): v128 {
  return f32x4.add(acc, f32x4.mul(a, b));
}

/** out[0] = w0 · x over cols, four accumulators. */
@inline function dot1(w0: usize, x: usize, cols: i32): f32 {
  let a = f32x4.splat(0), b = a, c = a, d = a;
  const end16 = <usize>(cols & ~15) << 2;
  const end4 = <usize>(cols & ~3) << 2;
  let j: usize = 0;
  for (; j < end16; j += 64) {
    a = fma(a, v128.load(w0 + j), v128.load(x + j));
    b = fma(b, v128.load(w0 + j, 16), v128.load(x + j, 16));
    c = fma(c, v128.load(w0 + j, 32), v128.load(x + j, 32));
    d = fma(d, v128.load(w0 + j, 48), v128.load(x + j, 48));
  }
  for (; j < end4; j += 16) a = fma(a, v128.load(w0 + j), v128.load(x + j));
  let sum = hsum(f32x4.add(f32x4.add(a, b), f32x4.add(c, d)));
  const end = <usize>cols << 2;
  for (; j < end; j += 4) sum += load<f32>(w0 + j) * load<f32>(x + j);
  return sum;
}

/** out[0..4) = rows w0, w0+stride, .. · x. */
@inline function dot4(out: usize, w0: usize, stride: usize, x: usize, cols: i32): void {
  const w1 = w0 + stride, w2 = w1 + stride, w3 = w2 + stride;
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  const end8 = <usize>(cols & ~7) << 2;
  const end4 = <usize>(cols & ~3) << 2;
  let j: usize = 0;
  for (; j < end8; j += 32) {
    const x0 = v128.load(x + j), x1 = v128.load(x + j, 16);
    a0 = fma(a0, v128.load(w0 + j), x0); b0 = fma(b0, v128.load(w0 + j, 16), x1);
    a1 = fma(a1, v128.load(w1 + j), x0); b1 = fma(b1, v128.load(w1 + j, 16), x1);
    a2 = fma(a2, v128.load(w2 + j), x0); b2 = fma(b2, v128.load(w2 + j, 16), x1);
    a3 = fma(a3, v128.load(w3 + j), x0); b3 = fma(b3, v128.load(w3 + j, 16), x1);
  }
  if (j < end4) {
    const x0 = v128.load(x + j);
    a0 = fma(a0, v128.load(w0 + j), x0); a1 = fma(a1, v128.load(w1 + j), x0);
    a2 = fma(a2, v128.load(w2 + j), x0); a3 = fma(a3, v128.load(w3 + j), x0);
    j += 16;
  }
  let s = hsum4(f32x4.add(a0, b0), f32x4.add(a1, b1), f32x4.add(a2, b2), f32x4.add(a3, b3));
  const end = <usize>cols << 2;
  for (; j < end; j += 4) {
    const xj = f32x4.splat(load<f32>(x + j));
    const wj = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(load<f32>(w0 + j)),
      1, load<f32>(w1 + j)), 2, load<f32>(w2 + j)), 3, load<f32>(w3 + j));
    s = fma(s, wj, xj);
  }
  v128.store(out, s);
}

/** Rows w0..w0+4*stride times two token vectors xa, xb; results to outA[0..4), outB[0..4). */
@inline function dot4x2(outA: usize, outB: usize, w0: usize, stride: usize, xa: usize, xb: usize, cols: i32): void {
  const w1 = w0 + stride, w2 = w1 + stride, w3 = w2 + stride;
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  const end4 = <usize>(cols & ~3) << 2;
  let j: usize = 0;
  for (; j < end4; j += 16) {
    const x0 = v128.load(xa + j), x1 = v128.load(xb + j);
    let wv = v128.load(w0 + j); a0 = fma(a0, wv, x0); b0 = fma(b0, wv, x1);
    wv = v128.load(w1 + j); a1 = fma(a1, wv, x0); b1 = fma(b1, wv, x1);
    wv = v128.load(w2 + j); a2 = fma(a2, wv, x0); b2 = fma(b2, wv, x1);
    wv = v128.load(w3 + j); a3 = fma(a3, wv, x0); b3 = fma(b3, wv, x1);
  }
  let sa = hsum4(a0, a1, a2, a3), sb = hsum4(b0, b1, b2, b3);
  const end = <usize>cols << 2;
  for (; j < end; j += 4) {
    const wj = f32x4.replace_lane(f32x4.replace_lane(f32x4.replace_lane(f32x4.splat(load<f32>(w0 + j)),
      1, load<f32>(w1 + j)), 2, load<f32>(w2 + j)), 3, load<f32>(w3 + j));
    sa = fma(sa, wj, f32x4.splat(load<f32>(xa + j)));
    sb = fma(sb, wj, f32x4.splat(load<f32>(xb + j)));
  }
  v128.store(outA, sa);
  v128.store(outB, sb);
}

/** One row w0 times two token vectors xa, xb: each weight vector loaded once serves both tokens. */
@inline function dot1x2(outA: usize, outB: usize, w0: usize, xa: usize, xb: usize, cols: i32): void {
  let a0 = f32x4.splat(0), a1 = a0, b0 = a0, b1 = a0;
  const end8 = <usize>(cols & ~7) << 2, end4 = <usize>(cols & ~3) << 2, end = <usize>cols << 2;
  let j: usize = 0;
  for (; j < end8; j += 32) {
    const v0 = v128.load(w0 + j), v1 = v128.load(w0 + j, 16);
    a0 = fma(a0, v0, v128.load(xa + j)); a1 = fma(a1, v1, v128.load(xa + j, 16));
    b0 = fma(b0, v0, v128.load(xb + j)); b1 = fma(b1, v1, v128.load(xb + j, 16));
  }
  for (; j < end4; j += 16) {
    const v0 = v128.load(w0 + j);
    a0 = fma(a0, v0, v128.load(xa + j));
    b0 = fma(b0, v0, v128.load(xb + j));
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

export function matvec(out: usize, w: usize, x: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  for (let r = 0; r < rows; r++) store<f32>(out + (<usize>r << 2), dot1(w + <usize>r * stride, x, cols));
}

// Where touch() leaves its sum, so the optimizer cannot drop the loads.
let sink: v128 = f32x4.splat(0);

/**
 * Reads [p, p + bytes) once as one sequential stream, pulling it into cache at the full DRAM rate;
 * the 4-row tiles that follow then read it from cache (their 4 interleaved streams only get about
 * half the DRAM rate when they miss).
 */
@inline function touch(p: usize, bytes: usize): void {
  let a = f32x4.splat(0), b = a;
  let j: usize = 0;
  for (; j + 128 <= bytes; j += 128) {
    a = v128.or(a, v128.load(p + j));
    b = v128.or(b, v128.load(p + j, 64));
  }
  sink = v128.or(sink, v128.or(a, b));
}

/** Tokens per chunk: their x rows (about 256 KiB) stay cache-resident while W streams once per chunk. */
@inline function tokenChunk(cols: i32): i32 {
  return max(2, (65536 / max(cols, 1)) & ~1);
}

/** Few tokens: memory-bound like matvec, so W streams one row at a time; the row stays in L1 for them all. */
function matmulFew(out: usize, w: usize, x: usize, rows: i32, cols: i32, n: i32): void {
  const stride = <usize>cols << 2;
  const outStride = <usize>rows << 2;
  for (let r = 0; r < rows; r++) {
    const wr = w + <usize>r * stride;
    const o = out + (<usize>r << 2);
    let t = 0;
    for (; t + 2 <= n; t += 2) {
      const oa = o + <usize>t * outStride;
      dot1x2(oa, oa + outStride, wr, x + <usize>t * stride, x + <usize>(t + 1) * stride, cols);
    }
    if (t < n) store<f32>(o + <usize>t * outStride, dot1(wr, x + <usize>t * stride, cols));
  }
}

/** Up to this many tokens matmul is memory-bound (measured), and takes the row-streaming path. */
const FEW_TOKENS = 4;

export function matmul(out: usize, w: usize, x: usize, rows: i32, cols: i32, n: i32): void {
  if (n <= FEW_TOKENS) {
    matmulFew(out, w, x, rows, cols, n);
    return;
  }
  const stride = <usize>cols << 2;
  const outStride = <usize>rows << 2;
  const chunk = tokenChunk(cols);
  for (let t0 = 0; t0 < n; t0 += chunk) {
    const tEnd = min(n, t0 + chunk);
    let r = 0;
    for (; r + 4 <= rows; r += 4) {
      const wr = w + <usize>r * stride;
      const o = out + (<usize>r << 2);
      touch(wr, stride << 2);
      let t = t0;
      for (; t + 2 <= tEnd; t += 2) {
        const oa = o + <usize>t * outStride;
        dot4x2(oa, oa + outStride, wr, stride, x + <usize>t * stride, x + <usize>(t + 1) * stride, cols);
      }
      if (t < tEnd) dot4(o + <usize>t * outStride, wr, stride, x + <usize>t * stride, cols);
    }
    for (; r < rows; r++) {
      for (let t = t0; t < tEnd; t++) {
        store<f32>(out + <usize>t * outStride + (<usize>r << 2), dot1(w + <usize>r * stride, x + <usize>t * stride, cols));
      }
    }
  }
}
