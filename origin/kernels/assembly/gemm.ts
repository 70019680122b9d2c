// Batched projections for the origin's reference backend: one call computes out[T, rows] for every
// token of a step, reading each weight once for all of them. The arithmetic is the reference's, term
// by term (engine/deepseek/ops.ts matvec in f64, fp8.ts fp8Gemm in f32), so results are bit-identical
// to running the tokens one by one: SIMD lanes hold *tokens*, never partial sums of one dot product,
// and the column order of every sum is kept. A single token gets 4 independent row chains instead.
//
// Activations arrive row-major [T, cols] and are transposed into [cols, Tp] scratch (Tp: T rounded up
// to the lane count, padding zeroed) so that one v128 load gives the same column of several tokens.

/** out[T, rows] f64 = x[T, cols] f64 · w[rows, cols]ᵀ f32, each sum in f64 in column order. xt: scratch [cols, Tp] f64. */
export function gemmF32(out: usize, w: usize, x: usize, xt: usize, T: i32, rows: i32, cols: i32): void {
  if (T == 1) {
    matvecF32(out, w, x, rows, cols);
    return;
  }
  const Tp = (T + 1) & ~1;
  for (let c = 0; c < cols; c++) {
    const dst = xt + ((<usize>c * Tp) << 3);
    for (let t = 0; t < T; t++) store<f64>(dst + (<usize>t << 3), load<f64>(x + ((<usize>t * cols + c) << 3)));
    if (T < Tp) store<f64>(dst + (<usize>T << 3), 0);
  }
  const rowBytes = <usize>cols << 2, colBytes = <usize>Tp << 3;
  for (let r = 0; r < rows; r++) {
    const wr = w + <usize>r * rowBytes;
    let t0 = 0;
    for (; t0 + 8 <= Tp; t0 += 8) {
      let a0 = f64x2.splat(0), a1 = a0, a2 = a0, a3 = a0;
      let p = xt + (<usize>t0 << 3);
      for (let c = 0; c < cols; c++, p += colBytes) {
        const wv = f64x2.splat(<f64>load<f32>(wr + (<usize>c << 2)));
        a0 = f64x2.add(a0, f64x2.mul(wv, v128.load(p)));
        a1 = f64x2.add(a1, f64x2.mul(wv, v128.load(p, 16)));
        a2 = f64x2.add(a2, f64x2.mul(wv, v128.load(p, 32)));
        a3 = f64x2.add(a3, f64x2.mul(wv, v128.load(p, 48)));
      }
      storeF64Lanes(out, a0, t0, T, rows, r);
      storeF64Lanes(out, a1, t0 + 2, T, rows, r);
      storeF64Lanes(out, a2, t0 + 4, T, rows, r);
      storeF64Lanes(out, a3, t0 + 6, T, rows, r);
    }
    for (; t0 < Tp; t0 += 2) {
      let a0 = f64x2.splat(0);
      let p = xt + (<usize>t0 << 3);
      for (let c = 0; c < cols; c++, p += colBytes) {
        a0 = f64x2.add(a0, f64x2.mul(f64x2.splat(<f64>load<f32>(wr + (<usize>c << 2))), v128.load(p)));
      }
      storeF64Lanes(out, a0, t0, T, rows, r);
    }
  }
}

@inline function storeF64Lanes(out: usize, a: v128, t: i32, T: i32, rows: i32, r: i32): void {
  store<f64>(out + ((<usize>t * rows + r) << 3), f64x2.extract_lane(a, 0));
  if (t + 1 < T) store<f64>(out + ((<usize>(t + 1) * rows + r) << 3), f64x2.extract_lane(a, 1));
}

/** One token: 4 rows at a time, each its own sequential f64 chain. */
function matvecF32(out: usize, w: usize, x: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const w0 = w + <usize>r * rowBytes, w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
    let s0: f64 = 0, s1: f64 = 0, s2: f64 = 0, s3: f64 = 0;
    for (let c = 0; c < cols; c++) {
      const o = <usize>c << 2, xv = load<f64>(x + (<usize>c << 3));
      s0 += <f64>load<f32>(w0 + o) * xv;
      s1 += <f64>load<f32>(w1 + o) * xv;
      s2 += <f64>load<f32>(w2 + o) * xv;
      s3 += <f64>load<f32>(w3 + o) * xv;
    }
    store<f64>(out + (<usize>r << 3), s0);
    store<f64>(out + (<usize>(r + 1) << 3), s1);
    store<f64>(out + (<usize>(r + 2) << 3), s2);
    store<f64>(out + (<usize>(r + 3) << 3), s3);
  }
  for (; r < rows; r++) {
    const wr = w + <usize>r * rowBytes;
    let s: f64 = 0;
    for (let c = 0; c < cols; c++) s += <f64>load<f32>(wr + (<usize>c << 2)) * load<f64>(x + (<usize>c << 3));
    store<f64>(out + (<usize>r << 3), s);
  }
}

/**
 * FP8 block-scaled GEMM, fp8Gemm's arithmetic: out[T, rows] f32 = A[T, cols] · B[rows, cols]ᵀ where
 * A is given decoded (xd[T, cols] f32: e4m3 values of the activation codes, xs[T, nkb] their 1×bc
 * scales) and B as E4M3 codes wq[rows, cols] with ws[ceil(rows/br), nkb] scales. Each bc-wide block's
 * dot product is summed in f32, then × A's scale × B's scale added to an f32 accumulator.
 * table: the 256 decoded E4M3 values (f32). Scratch: xt [cols, Tp] f32, st [nkb, Tp] f32.
 */
export function gemmFp8(
  out: usize, wq: usize, ws: usize, xd: usize, xs: usize, xt: usize, st: usize, table: usize,
  T: i32, rows: i32, cols: i32, br: i32, bc: i32,
): void {
  const nkb = (cols + bc - 1) / bc;
  if (T == 1) {
    matvecFp8(out, wq, ws, xd, xs, table, rows, cols, br, bc, nkb);
    return;
  }
  const Tp = (T + 3) & ~3;
  transposeF32(xt, xd, T, Tp, cols);
  transposeF32(st, xs, T, Tp, nkb);
  const colBytes = <usize>Tp << 2;
  for (let r = 0; r < rows; r++) {
    const wr = wq + <usize>r * cols, bs = ws + ((<usize>(r / br) * nkb) << 2);
    let t0 = 0;
    for (; t0 + 16 <= Tp; t0 += 16) {
      let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (let kb = 0; kb < nkb; kb++) {
        let d0 = f32x4.splat(0), d1 = d0, d2 = d0, d3 = d0;
        const k1 = min(cols, (kb + 1) * bc);
        let p = xt + ((<usize>(kb * bc) * Tp + t0) << 2);
        for (let k = kb * bc; k < k1; k++, p += colBytes) {
          const wv = f32x4.splat(load<f32>(table + (<usize>load<u8>(wr + k) << 2)));
          d0 = f32x4.add(d0, f32x4.mul(v128.load(p), wv));
          d1 = f32x4.add(d1, f32x4.mul(v128.load(p, 16), wv));
          d2 = f32x4.add(d2, f32x4.mul(v128.load(p, 32), wv));
          d3 = f32x4.add(d3, f32x4.mul(v128.load(p, 48), wv));
        }
        const sb = f32x4.splat(load<f32>(bs + (<usize>kb << 2)));
        const sa = st + ((<usize>kb * Tp + t0) << 2);
        a0 = f32x4.add(a0, f32x4.mul(f32x4.mul(d0, v128.load(sa)), sb));
        a1 = f32x4.add(a1, f32x4.mul(f32x4.mul(d1, v128.load(sa, 16)), sb));
        a2 = f32x4.add(a2, f32x4.mul(f32x4.mul(d2, v128.load(sa, 32)), sb));
        a3 = f32x4.add(a3, f32x4.mul(f32x4.mul(d3, v128.load(sa, 48)), sb));
      }
      storeF32Lanes(out, a0, t0, T, rows, r);
      storeF32Lanes(out, a1, t0 + 4, T, rows, r);
      storeF32Lanes(out, a2, t0 + 8, T, rows, r);
      storeF32Lanes(out, a3, t0 + 12, T, rows, r);
    }
    if (t0 + 8 <= Tp) {
      let a0 = f32x4.splat(0), a1 = a0;
      for (let kb = 0; kb < nkb; kb++) {
        let d0 = f32x4.splat(0), d1 = d0;
        const k1 = min(cols, (kb + 1) * bc);
        let p = xt + ((<usize>(kb * bc) * Tp + t0) << 2);
        for (let k = kb * bc; k < k1; k++, p += colBytes) {
          const wv = f32x4.splat(load<f32>(table + (<usize>load<u8>(wr + k) << 2)));
          d0 = f32x4.add(d0, f32x4.mul(v128.load(p), wv));
          d1 = f32x4.add(d1, f32x4.mul(v128.load(p, 16), wv));
        }
        const sb = f32x4.splat(load<f32>(bs + (<usize>kb << 2)));
        const sa = st + ((<usize>kb * Tp + t0) << 2);
        a0 = f32x4.add(a0, f32x4.mul(f32x4.mul(d0, v128.load(sa)), sb));
        a1 = f32x4.add(a1, f32x4.mul(f32x4.mul(d1, v128.load(sa, 16)), sb));
      }
      storeF32Lanes(out, a0, t0, T, rows, r);
      storeF32Lanes(out, a1, t0 + 4, T, rows, r);
      t0 += 8;
    }
    for (; t0 < Tp; t0 += 4) {
      let a0 = f32x4.splat(0);
      for (let kb = 0; kb < nkb; kb++) {
        let d0 = f32x4.splat(0);
        const k1 = min(cols, (kb + 1) * bc);
        let p = xt + ((<usize>(kb * bc) * Tp + t0) << 2);
        for (let k = kb * bc; k < k1; k++, p += colBytes) {
          d0 = f32x4.add(d0, f32x4.mul(v128.load(p), f32x4.splat(load<f32>(table + (<usize>load<u8>(wr + k) << 2)))));
        }
        const sb = f32x4.splat(load<f32>(bs + (<usize>kb << 2)));
        a0 = f32x4.add(a0, f32x4.mul(f32x4.mul(d0, v128.load(st + ((<usize>kb * Tp + t0) << 2))), sb));
      }
      storeF32Lanes(out, a0, t0, T, rows, r);
    }
  }
}

@inline function storeF32Lanes(out: usize, a: v128, t: i32, T: i32, rows: i32, r: i32): void {
  store<f32>(out + ((<usize>t * rows + r) << 2), f32x4.extract_lane(a, 0));
  if (t + 1 < T) store<f32>(out + ((<usize>(t + 1) * rows + r) << 2), f32x4.extract_lane(a, 1));
  if (t + 2 < T) store<f32>(out + ((<usize>(t + 2) * rows + r) << 2), f32x4.extract_lane(a, 2));
  if (t + 3 < T) store<f32>(out + ((<usize>(t + 3) * rows + r) << 2), f32x4.extract_lane(a, 3));
}

/** src[T, n] f32 → dst[n, Tp] f32, lanes T..Tp-1 zeroed. */
function transposeF32(dst: usize, src: usize, T: i32, Tp: i32, n: i32): void {
  for (let c = 0; c < n; c++) {
    const d = dst + ((<usize>c * Tp) << 2);
    for (let t = 0; t < T; t++) store<f32>(d + (<usize>t << 2), load<f32>(src + ((<usize>t * n + c) << 2)));
    for (let t = T; t < Tp; t++) store<f32>(d + (<usize>t << 2), 0);
  }
}

/** One token: 4 rows at a time, each its own f32 chain per block. */
function matvecFp8(out: usize, wq: usize, ws: usize, xd: usize, xs: usize, table: usize, rows: i32, cols: i32, br: i32, bc: i32, nkb: i32): void {
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const w0 = wq + <usize>r * cols, w1 = w0 + cols, w2 = w1 + cols, w3 = w2 + cols;
    let a0: f32 = 0, a1: f32 = 0, a2: f32 = 0, a3: f32 = 0;
    for (let kb = 0; kb < nkb; kb++) {
      let d0: f32 = 0, d1: f32 = 0, d2: f32 = 0, d3: f32 = 0;
      const k1 = min(cols, (kb + 1) * bc);
      for (let k = kb * bc; k < k1; k++) {
        const xv = load<f32>(xd + (<usize>k << 2));
        d0 += xv * load<f32>(table + (<usize>load<u8>(w0 + k) << 2));
        d1 += xv * load<f32>(table + (<usize>load<u8>(w1 + k) << 2));
        d2 += xv * load<f32>(table + (<usize>load<u8>(w2 + k) << 2));
        d3 += xv * load<f32>(table + (<usize>load<u8>(w3 + k) << 2));
      }
      const sa = load<f32>(xs + (<usize>kb << 2));
      a0 += d0 * sa * load<f32>(ws + ((<usize>((r / br) * nkb + kb)) << 2));
      a1 += d1 * sa * load<f32>(ws + ((<usize>(((r + 1) / br) * nkb + kb)) << 2));
      a2 += d2 * sa * load<f32>(ws + ((<usize>(((r + 2) / br) * nkb + kb)) << 2));
      a3 += d3 * sa * load<f32>(ws + ((<usize>(((r + 3) / br) * nkb + kb)) << 2));
    }
    store<f32>(out + (<usize>r << 2), a0);
    store<f32>(out + (<usize>(r + 1) << 2), a1);
    store<f32>(out + (<usize>(r + 2) << 2), a2);
    store<f32>(out + (<usize>(r + 3) << 2), a3);
  }
  for (; r < rows; r++) {
    const wr = wq + <usize>r * cols;
    let a: f32 = 0;
    for (let kb = 0; kb < nkb; kb++) {
      let d: f32 = 0;
      const k1 = min(cols, (kb + 1) * bc);
      for (let k = kb * bc; k < k1; k++) d += load<f32>(xd + (<usize>k << 2)) * load<f32>(table + (<usize>load<u8>(wr + k) << 2));
      a += d * load<f32>(xs + (<usize>kb << 2)) * load<f32>(ws + ((<usize>((r / br) * nkb + kb)) << 2));
    }
    store<f32>(out + (<usize>r << 2), a);
  }
}

