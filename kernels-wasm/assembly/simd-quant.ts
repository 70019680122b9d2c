// Q8_0 and Q4_0 matvec/matmul with integer dot products (as llama.cpp's CPU path): the activations are
// quantized to int8 once per call (quant-common.ts), then each 32-block is Σ w·x in i32 via
// i32x4.dot_i16x8_s, converted once and scaled by d_w · d_x into f32 accumulators. Weights are split into
// i16 lanes by shifts and masks, no widening shuffles: Q8_0's even/odd bytes of a 16-byte load, Q4_0's four
// nibbles of each i16 lane — the activation layout is permuted to match. Q4_0's "- 8" is folded out:
// Σ (n - 8)·x = Σ n·x - 8·Σx, with Σx precomputed per block. Measured faster than dequantizing to f32 (bench/quant.ts).
import { f16ToF32, paddedCols, quantizeActivations, xqStride } from './quant-common';
import { hsum } from './simd-math';

/** i32x4 partial sums of one Q8_0 block: w 32 i8 codes, x its 32 permuted i16 activations. */
@inline function blockQ8(w: usize, x: usize): v128 {
  const v0 = v128.load(w), v1 = v128.load(w, 16);
  const p0 = i32x4.dot_i16x8_s(i16x8.shr_s(i16x8.shl(v0, 8), 8), v128.load(x));
  const p1 = i32x4.dot_i16x8_s(i16x8.shr_s(v0, 8), v128.load(x, 16));
  const p2 = i32x4.dot_i16x8_s(i16x8.shr_s(i16x8.shl(v1, 8), 8), v128.load(x, 32));
  const p3 = i32x4.dot_i16x8_s(i16x8.shr_s(v1, 8), v128.load(x, 48));
  return i32x4.add(i32x4.add(p0, p1), i32x4.add(p2, p3));
}

/** i32x4 partial sums of one Q4_0 block (16 bytes of nibbles), the -8 applied via the block's Σx at xsum. */
@inline function blockQ4(w: usize, x: usize, xsum: usize): v128 {
  const v = v128.load(w), m = i16x8.splat(15);
  const p0 = i32x4.dot_i16x8_s(v128.and(v, m), v128.load(x));
  const p1 = i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(v, 8), m), v128.load(x, 16));
  const p2 = i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(v, 4), m), v128.load(x, 32));
  const p3 = i32x4.dot_i16x8_s(i16x8.shr_u(v, 12), v128.load(x, 48));
  const s = i32x4.add(i32x4.add(p0, p1), i32x4.add(p2, p3));
  return i32x4.sub(s, i32x4.shl(v128.load32_zero(xsum), 3));
}

@inline function scaled(acc: v128, isum: v128, d: f32): v128 {
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(isum), f32x4.splat(d)));
}

/** One row · one token; `q4` selects the format (a constant at every call site, so it folds away). */
@inline function dotRow(row: usize, d: usize, xq: usize, nb: i32, q4: bool): f32 {
  const scales = xq + (<usize>nb << 6), sums = scales + (<usize>nb << 2);
  const wb: usize = q4 ? 16 : 32;
  let a = f32x4.splat(0), b = a;
  let k = 0;
  for (; k + 2 <= nb; k += 2) {
    const w = row + <usize>k * wb, x = xq + (<usize>k << 6);
    const s0 = q4 ? blockQ4(w, x, sums + (<usize>k << 2)) : blockQ8(w, x);
    const s1 = q4 ? blockQ4(w + 16, x + 64, sums + (<usize>k << 2) + 4) : blockQ8(w + 32, x + 64);
    a = scaled(a, s0, f16ToF32(load<u16>(d + (<usize>k << 1))) * load<f32>(scales + (<usize>k << 2)));
    b = scaled(b, s1, f16ToF32(load<u16>(d + (<usize>k << 1), 2)) * load<f32>(scales + (<usize>k << 2), 4));
  }
  if (k < nb) {
    const w = row + <usize>k * wb, x = xq + (<usize>k << 6);
    const s0 = q4 ? blockQ4(w, x, sums + (<usize>k << 2)) : blockQ8(w, x);
    a = scaled(a, s0, f16ToF32(load<u16>(d + (<usize>k << 1))) * load<f32>(scales + (<usize>k << 2)));
  }
  return hsum(f32x4.add(a, b));
}

/** One row · two tokens: each block's weights are split into lanes once and serve both. */
@inline function dotRowX2(outA: usize, outB: usize, row: usize, d: usize, xa: usize, xb: usize, nb: i32, q4: bool): void {
  const sa = xa + (<usize>nb << 6), sb = xb + (<usize>nb << 6);
  const suma = sa + (<usize>nb << 2), sumb = sb + (<usize>nb << 2);
  let a = f32x4.splat(0), b = a;
  const m = i16x8.splat(15);
  for (let k = 0; k < nb; k++) {
    let e0: v128, e1: v128, e2: v128, e3: v128;
    if (q4) {
      const v = v128.load(row + (<usize>k << 4));
      e0 = v128.and(v, m); e1 = v128.and(i16x8.shr_u(v, 8), m); e2 = v128.and(i16x8.shr_u(v, 4), m); e3 = i16x8.shr_u(v, 12);
    } else {
      const v0 = v128.load(row + (<usize>k << 5)), v1 = v128.load(row + (<usize>k << 5), 16);
      e0 = i16x8.shr_s(i16x8.shl(v0, 8), 8); e1 = i16x8.shr_s(v0, 8); e2 = i16x8.shr_s(i16x8.shl(v1, 8), 8); e3 = i16x8.shr_s(v1, 8);
    }
    const x = <usize>k << 6;
    let ia = i32x4.add(
      i32x4.add(i32x4.dot_i16x8_s(e0, v128.load(xa + x)), i32x4.dot_i16x8_s(e1, v128.load(xa + x, 16))),
      i32x4.add(i32x4.dot_i16x8_s(e2, v128.load(xa + x, 32)), i32x4.dot_i16x8_s(e3, v128.load(xa + x, 48))));
    let ib = i32x4.add(
      i32x4.add(i32x4.dot_i16x8_s(e0, v128.load(xb + x)), i32x4.dot_i16x8_s(e1, v128.load(xb + x, 16))),
      i32x4.add(i32x4.dot_i16x8_s(e2, v128.load(xb + x, 32)), i32x4.dot_i16x8_s(e3, v128.load(xb + x, 48))));
    if (q4) {
      ia = i32x4.sub(ia, i32x4.shl(v128.load32_zero(suma + (<usize>k << 2)), 3));
      ib = i32x4.sub(ib, i32x4.shl(v128.load32_zero(sumb + (<usize>k << 2)), 3));
    }
    const dw = f16ToF32(load<u16>(d + (<usize>k << 1)));
    a = scaled(a, ia, dw * load<f32>(sa + (<usize>k << 2)));
    b = scaled(b, ib, dw * load<f32>(sb + (<usize>k << 2)));
  }
  store<f32>(outA, hsum(a));
  store<f32>(outB, hsum(b));
}

/** Tokens per chunk: their quantized activations (about 256 KiB) stay in L2 while W streams once per chunk. */
@inline function tokenChunk(cols: i32): i32 {
  return max(2, <i32>(<usize>262144 / xqStride(cols)) & ~1);
}

// Inlined into each export so `q4` is a constant there and every format branch folds away.
@inline function matmulQuant(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32, n: i32, q4: bool): void {
  quantizeActivations(xq, x, cols, n);
  const k = paddedCols(cols), nb = k >> 5;
  const rowBytes = <usize>(q4 ? k >> 1 : k), dBytes = <usize>(nb << 1), stride = xqStride(cols);
  const outStride = <usize>rows << 2;
  if (n == 1) {
    for (let r = 0; r < rows; r++) store<f32>(out + (<usize>r << 2), dotRow(w + <usize>r * rowBytes, d + <usize>r * dBytes, xq, nb, q4));
    return;
  }
  const chunk = tokenChunk(cols);
  for (let t0 = 0; t0 < n; t0 += chunk) {
    const tEnd = min(n, t0 + chunk);
    for (let r = 0; r < rows; r++) {
      const row = w + <usize>r * rowBytes, dr = d + <usize>r * dBytes, o = out + (<usize>r << 2);
      let t = t0;
      for (; t + 2 <= tEnd; t += 2) {
        const oa = o + <usize>t * outStride, xa = xq + <usize>t * stride;
        dotRowX2(oa, oa + outStride, row, dr, xa, xa + stride, nb, q4);
      }
      if (t < tEnd) store<f32>(o + <usize>t * outStride, dotRow(row, dr, xq + <usize>t * stride, nb, q4));
    }
  }
}

/** out[rows] = Q8_0 W[rows, cols] · x[cols]; xq: scratch of xqStride(cols) bytes. */
export function matvec_q8_0(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32): void {
  matmulQuant(out, w, d, x, xq, rows, cols, 1, false);
}

/** out[n, rows] = x[n, cols] · Q8_0 Wᵀ; xq: scratch of n · xqStride(cols) bytes. */
export function matmul_q8_0(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32, n: i32): void {
  matmulQuant(out, w, d, x, xq, rows, cols, n, false);
}

export function matvec_q4_0(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32): void {
  matmulQuant(out, w, d, x, xq, rows, cols, 1, true);
}

export function matmul_q4_0(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32, n: i32): void {
  matmulQuant(out, w, d, x, xq, rows, cols, n, true);
}
