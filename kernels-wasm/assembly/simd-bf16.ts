// BF16 weights × f32 activations: a projection kept as BF16 in memory (2 bytes per weight, where f32 takes 4) whose
// products are exactly the f32 kernels' (a BF16 value is the top half of its f32, so widening is exact), summed in
// the same lane order: matvec_bf16 is bit-identical to matvec over the widened matrix, matmul_bf16 to matmul's
// few-token path (simd-matvec.ts's matmulFew) for any n. DeepSeek-V3 ships lm_head (and the embedding) in BF16;
// a small model's head is most of its step (models/pystd-mla-moe: 20,755 × 128, 10.6 MB as f32), and at half the
// bytes it streams faster and leaves the rest of the step's weights in cache.
import { hsum } from './simd-math';

/** f32 lanes of BF16 values 0..3 (lo) or 4..7 (hi) of v: each BF16 becomes the top half of an f32 (punpck*wd). */
@inline function lo(v: v128): v128 {
  return v128.shuffle<i16>(i16x8.splat(0), v, 0, 8, 1, 9, 2, 10, 3, 11);
}
@inline function hi(v: v128): v128 {
  return v128.shuffle<i16>(i16x8.splat(0), v, 4, 12, 5, 13, 6, 14, 7, 15);
}
@inline function bf16At(p: usize): f32 {
  return reinterpret<f32>(<u32>load<u16>(p) << 16);
}

/** acc + a*b, rounded twice, as simd-dot.ts's madd. */
@inline function madd(acc: v128, a: v128, b: v128): v128 {
  return f32x4.add(acc, f32x4.mul(a, b));
}

/** simd-dot.ts's dot1 over a BF16 row w0 (2-byte weights; x f32). */
@inline function dot1(w0: usize, x: usize, cols: i32): f32 {
  let a = f32x4.splat(0), b = a, c = a, d = a;
  const n16 = cols & ~15, n4 = cols & ~3;
  let i = 0;
  for (; i < n16; i += 16) {
    const v0 = v128.load(w0 + (<usize>i << 1)), v1 = v128.load(w0 + (<usize>i << 1), 16), xi = x + (<usize>i << 2);
    a = madd(a, lo(v0), v128.load(xi));
    b = madd(b, hi(v0), v128.load(xi, 16));
    c = madd(c, lo(v1), v128.load(xi, 32));
    d = madd(d, hi(v1), v128.load(xi, 48));
  }
  for (; i < n4; i += 4) a = madd(a, lo(v128.load64_zero(w0 + (<usize>i << 1))), v128.load(x + (<usize>i << 2)));
  let sum = hsum(f32x4.add(f32x4.add(a, b), f32x4.add(c, d)));
  for (; i < cols; i++) sum += bf16At(w0 + (<usize>i << 1)) * load<f32>(x + (<usize>i << 2));
  return sum;
}

/** simd-dot.ts's dot1rows2 over BF16 rows wa, wb: each row's sums in dot1's order, the x loads shared. */
@inline function dot1rows2(outA: usize, outB: usize, wa: usize, wb: usize, x: usize, cols: i32): void {
  let a0 = f32x4.splat(0), b0 = a0, c0 = a0, d0 = a0, a1 = a0, b1 = a0, c1 = a0, d1 = a0;
  const n16 = cols & ~15, n4 = cols & ~3;
  let i = 0;
  // Half of each 16-column step per pass, the accumulator pairs swapped after it (a, b take the next 8 columns):
  // the same products into the same accumulators in the same order, with fewer values live (V8 spilled three
  // per step of the two-halves loop).
  for (; i < n16; i += 8) {
    const j = <usize>i << 1, xi = x + (<usize>i << 2);
    const va = v128.load(wa + j), vb = v128.load(wb + j);
    const x0 = v128.load(xi), x1 = v128.load(xi, 16);
    const ta0 = madd(a0, lo(va), x0), ta1 = madd(a1, lo(vb), x0);
    const tb0 = madd(b0, hi(va), x1), tb1 = madd(b1, hi(vb), x1);
    a0 = c0; b0 = d0; c0 = ta0; d0 = tb0;
    a1 = c1; b1 = d1; c1 = ta1; d1 = tb1;
  }
  for (; i < n4; i += 4) {
    const j = <usize>i << 1, xv = v128.load(x + (<usize>i << 2));
    a0 = madd(a0, lo(v128.load64_zero(wa + j)), xv);
    a1 = madd(a1, lo(v128.load64_zero(wb + j)), xv);
  }
  let sa = hsum(f32x4.add(f32x4.add(a0, b0), f32x4.add(c0, d0)));
  let sb = hsum(f32x4.add(f32x4.add(a1, b1), f32x4.add(c1, d1)));
  for (; i < cols; i++) {
    const xj = load<f32>(x + (<usize>i << 2));
    sa += bf16At(wa + (<usize>i << 1)) * xj;
    sb += bf16At(wb + (<usize>i << 1)) * xj;
  }
  store<f32>(outA, sa);
  store<f32>(outB, sb);
}

/** out[rows] = W · x, W BF16 [rows, cols]: matvec's two-stream pass (rows r and r + rows/2), bit-identical to it. */
export function matvec_bf16(out: usize, w: usize, x: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 1;
  const half = rows >> 1;
  const wh = w + <usize>half * stride, oh = out + (<usize>half << 2);
  for (let r = 0; r < half; r++) {
    const o = <usize>r << 2, wr = <usize>r * stride;
    dot1rows2(out + o, oh + o, w + wr, wh + wr, x, cols);
  }
  if (rows & 1) store<f32>(out + (<usize>(rows - 1) << 2), dot1(w + <usize>(rows - 1) * stride, x, cols));
}

/** simd-dot.ts's dot1x2 over a BF16 row: one weight load serves two tokens. */
@inline function dot1x2(outA: usize, outB: usize, w0: usize, xa: usize, xb: usize, cols: i32): void {
  let a0 = f32x4.splat(0), a1 = a0, b0 = a0, b1 = a0;
  const n8 = cols & ~7, n4 = cols & ~3;
  let i = 0;
  for (; i < n8; i += 8) {
    const v = v128.load(w0 + (<usize>i << 1)), v0 = lo(v), v1 = hi(v), j = <usize>i << 2;
    a0 = madd(a0, v0, v128.load(xa + j)); a1 = madd(a1, v1, v128.load(xa + j, 16));
    b0 = madd(b0, v0, v128.load(xb + j)); b1 = madd(b1, v1, v128.load(xb + j, 16));
  }
  for (; i < n4; i += 4) {
    const v0 = lo(v128.load64_zero(w0 + (<usize>i << 1))), j = <usize>i << 2;
    a0 = madd(a0, v0, v128.load(xa + j));
    b0 = madd(b0, v0, v128.load(xb + j));
  }
  let sa = hsum(f32x4.add(a0, a1)), sb = hsum(f32x4.add(b0, b1));
  for (; i < cols; i++) {
    const wj = bf16At(w0 + (<usize>i << 1)), j = <usize>i << 2;
    sa += wj * load<f32>(xa + j);
    sb += wj * load<f32>(xb + j);
  }
  store<f32>(outA, sa);
  store<f32>(outB, sb);
}

/**
 * out[n, rows] = x[n, cols] · Wᵀ, W BF16: matmul's few-token path at any n (each row streamed once, serving the
 * tokens two at a time; an odd last token by dot1), bit-identical to matmul for n ≤ 4. Verify steps and a few
 * logits rows are what it is for; a prefill wanting every row's logits streams the head once per token pair.
 */
export function matmul_bf16(out: usize, w: usize, x: usize, rows: i32, cols: i32, n: i32): void {
  const stride = <usize>cols << 1, xStride = <usize>cols << 2;
  const outStride = <usize>rows << 2;
  for (let r = 0; r < rows; r++) {
    const wr = w + <usize>r * stride;
    const o = out + (<usize>r << 2);
    let t = 0;
    for (; t + 2 <= n; t += 2) {
      const oa = o + <usize>t * outStride;
      dot1x2(oa, oa + outStride, wr, x + <usize>t * xStride, x + <usize>(t + 1) * xStride, cols);
    }
    if (t < n) store<f32>(o + <usize>t * outStride, dot1(wr, x + <usize>t * xStride, cols));
  }
}

/** Scalar twin: out[n, rows] = x[n, cols] · Wᵀ in row order, each product widened exactly. */
export function matmul_bf16_scalar(out: usize, w: usize, x: usize, rows: i32, cols: i32, n: i32): void {
  for (let t = 0; t < n; t++)
    for (let r = 0; r < rows; r++) {
      const wr = w + (<usize>r * <usize>cols << 1), xt = x + (<usize>t * <usize>cols << 2);
      let s: f32 = 0;
      for (let i = 0; i < cols; i++) s += bf16At(wr + (<usize>i << 1)) * load<f32>(xt + (<usize>i << 2));
      store<f32>(out + ((<usize>t * <usize>rows + <usize>r) << 2), s);
    }
}

export function matvec_bf16_scalar(out: usize, w: usize, x: usize, rows: i32, cols: i32): void {
  matmul_bf16_scalar(out, w, x, rows, cols, 1);
}
