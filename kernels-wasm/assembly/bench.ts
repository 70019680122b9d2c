// Exports for bench/quant.ts only: the machine's limits (a plain streaming read; register-only f32x4 and
// i16 dot-product loops) and the float-dequantizing Q8_0/Q4_0 matvecs that the integer-dot kernels were
// measured against (simd-quant.ts kept the faster). None of these is part of the engine's contract.
import { f16ToF32, paddedCols } from './quant-common';
import { hsum } from './simd-math';

let sink: v128 = i32x4.splat(0);

/** Reads [p, p + bytes) once, sequentially, 128 bytes per iteration into four independent ORs. */
export function bench_read(p: usize, bytes: usize): i32 {
  let a = i32x4.splat(0), b = a, c = a, d = a;
  for (let j: usize = 0; j + 128 <= bytes; j += 128) {
    a = v128.or(a, v128.or(v128.load(p + j), v128.load(p + j, 16)));
    b = v128.or(b, v128.or(v128.load(p + j, 32), v128.load(p + j, 48)));
    c = v128.or(c, v128.or(v128.load(p + j, 64), v128.load(p + j, 80)));
    d = v128.or(d, v128.or(v128.load(p + j, 96), v128.load(p + j, 112)));
  }
  sink = v128.or(v128.or(a, b), v128.or(c, d));
  return i32x4.extract_lane(sink, 0);
}

/**
 * iters × (6 f32x4 mul + 6 f32x4 add) on 12 independent register chains: 48 flops per iteration.
 * m and c come from the caller (1 and 0) so the optimizer cannot fold them and values never go subnormal.
 */
export function bench_peak_f32(iters: i32, m: f32, c: f32): f32 {
  const mv = f32x4.splat(m), cv = f32x4.splat(c);
  let a0 = f32x4.splat(1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
  let b0 = f32x4.splat(2), b1 = b0, b2 = b0, b3 = b0, b4 = b0, b5 = b0;
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.mul(a0, mv); a1 = f32x4.mul(a1, mv); a2 = f32x4.mul(a2, mv);
    a3 = f32x4.mul(a3, mv); a4 = f32x4.mul(a4, mv); a5 = f32x4.mul(a5, mv);
    b0 = f32x4.add(b0, cv); b1 = f32x4.add(b1, cv); b2 = f32x4.add(b2, cv);
    b3 = f32x4.add(b3, cv); b4 = f32x4.add(b4, cv); b5 = f32x4.add(b5, cv);
  }
  const a = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(a4, a5));
  const b = f32x4.add(f32x4.add(f32x4.add(b0, b1), f32x4.add(b2, b3)), f32x4.add(b4, b5));
  return hsum(f32x4.add(a, b));
}

/**
 * iters × 8 independent (i32x4.dot_i16x8_s + i32x4.add) — 64 multiply-adds per iteration — plus one i16x8.add
 * that changes x, so no dot is loop-invariant (hoistable).
 */
export function bench_peak_dot(iters: i32, seed: i32): i32 {
  let x = i16x8.splat(<i16>seed);
  const y = i16x8.splat(<i16>(seed + 1)), z = i16x8.splat(<i16>(seed + 2)), u = i16x8.splat(<i16>(seed + 3)), inc = i16x8.splat(1);
  let a0 = i32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  for (let i = 0; i < iters; i++) {
    a0 = i32x4.add(a0, i32x4.dot_i16x8_s(x, y)); a1 = i32x4.add(a1, i32x4.dot_i16x8_s(y, x));
    a2 = i32x4.add(a2, i32x4.dot_i16x8_s(x, z)); a3 = i32x4.add(a3, i32x4.dot_i16x8_s(z, x));
    a4 = i32x4.add(a4, i32x4.dot_i16x8_s(x, u)); a5 = i32x4.add(a5, i32x4.dot_i16x8_s(u, x));
    a6 = i32x4.add(a6, i32x4.dot_i16x8_s(x, x)); a7 = i32x4.add(a7, i32x4.dot_i16x8_s(x, inc));
    x = i16x8.add(x, inc);
  }
  const s = i32x4.add(i32x4.add(i32x4.add(a0, a1), i32x4.add(a2, a3)), i32x4.add(i32x4.add(a4, a5), i32x4.add(a6, a7)));
  return i32x4.extract_lane(s, 0);
}

/** Four f32x4 of sign-extended i8 lanes of v (16 codes). */
@inline function f32Lanes(v: v128, k: i32): v128 {
  const h = k < 2 ? i16x8.extend_low_i8x16_s(v) : i16x8.extend_high_i8x16_s(v);
  return f32x4.convert_i32x4_s((k & 1) == 0 ? i32x4.extend_low_i16x8_s(h) : i32x4.extend_high_i16x8_s(h));
}

/** Σ (codes of one 16-byte vector, as f32) · x[16], added to acc. */
@inline function dot16(acc: v128, v: v128, x: usize): v128 {
  acc = f32x4.add(acc, f32x4.mul(f32Lanes(v, 0), v128.load(x)));
  acc = f32x4.add(acc, f32x4.mul(f32Lanes(v, 1), v128.load(x, 16)));
  acc = f32x4.add(acc, f32x4.mul(f32Lanes(v, 2), v128.load(x, 32)));
  return f32x4.add(acc, f32x4.mul(f32Lanes(v, 3), v128.load(x, 48)));
}

/** The alternative: Q8_0/Q4_0 codes widened to f32 and dotted with f32 x (cols % 32 == 0), d applied per block. */
function matvecDeq(out: usize, w: usize, d: usize, x: usize, rows: i32, cols: i32, q4: bool): void {
  const nb = paddedCols(cols) >> 5;
  const rowBytes = <usize>(q4 ? nb << 4 : nb << 5);
  for (let r = 0; r < rows; r++) {
    const row = w + <usize>r * rowBytes, dr = d + (<usize>(r * nb) << 1);
    let acc = f32x4.splat(0);
    for (let b = 0; b < nb; b++) {
      const xb = x + (<usize>b << 7);
      let blk = f32x4.splat(0);
      if (q4) {
        const v = v128.load(row + (<usize>b << 4)), m = i8x16.splat(15), eight = i8x16.splat(8);
        blk = dot16(blk, i8x16.sub(v128.and(v, m), eight), xb);
        blk = dot16(blk, i8x16.sub(i8x16.shr_u(v, 4), eight), xb + 64);
      } else {
        blk = dot16(blk, v128.load(row + (<usize>b << 5)), xb);
        blk = dot16(blk, v128.load(row + (<usize>b << 5), 16), xb + 64);
      }
      acc = f32x4.add(acc, f32x4.mul(blk, f32x4.splat(f16ToF32(load<u16>(dr + (<usize>b << 1))))));
    }
    store<f32>(out + (<usize>r << 2), hsum(acc));
  }
}

export function bench_matvec_q8_0_deq(out: usize, w: usize, d: usize, x: usize, rows: i32, cols: i32): void {
  matvecDeq(out, w, d, x, rows, cols, false);
}

export function bench_matvec_q4_0_deq(out: usize, w: usize, d: usize, x: usize, rows: i32, cols: i32): void {
  matvecDeq(out, w, d, x, rows, cols, true);
}

/**
 * Where a runtime checks wasm memory bounds in code instead of with guard pages (bench/workerd-kernels.ts):
 * reps passes over n i32s, one scalar load per element (bench_loads_i32) or one v128 load per 4 elements
 * (bench_loads_v128), against the same loop with no memory access (bench_alu). A check costs a compare and a
 * branch per load, so the loads slow down and the ALU loop does not.
 */
export function bench_loads_i32(p: usize, n: i32, reps: i32): i32 {
  let s: i32 = 0;
  for (let r = 0; r < reps; r++) for (let i = 0; i < n; i++) s += load<i32>(p + (<usize>i << 2)) ^ i;
  return s;
}

export function bench_loads_v128(p: usize, n: i32, reps: i32): i32 {
  let s = i32x4.splat(0);
  for (let r = 0; r < reps; r++) for (let i = 0; i < n; i += 4) s = i32x4.add(s, v128.load(p + (<usize>i << 2)));
  return i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 3);
}

export function bench_alu(n: i32, reps: i32): i32 {
  let s: i32 = 0;
  for (let r = 0; r < reps; r++) for (let i = 0; i < n; i++) s += (i * <i32>0x9e3779b1) ^ (s >>> 3);
  return s;
}
