// Q8_0 matvec on relaxed SIMD (only in kernels-relaxed.wasm, entry relaxed.ts): each 32-block's Σ w·q in
// i32 via i32x4.relaxed_dot_i8x16_i7x16_add_s (16 i8 MACs + accumulate). That op is deterministic only when
// its second operand's bytes are 0..127, so the activation codes q (the same int8 codes and scales as
// quantizeActivations: |q| ≤ 127) are split as q = q⁺ - q⁻ with q⁺ = max(q, 0), q⁻ = max(-q, 0), both 7-bit,
// and Σ w·q = Σ w·q⁺ - Σ w·q⁻ — exact for every weight byte -128..127, no platform-dependent result.
// Lane i of a block's i32x4 sums elements 4i..4i+3 and 16+4i..16+4i+3, the same partition as simd-quant.ts's
// blockQ8, so the output is bit-identical to matvec_q8_0 (and matvec_q8_0_scalar is its twin likewise).
// Measured (bench/RESULTS.md, 2026-11-28): faster than matvec_q8_0 inside workerd, slower in Node 22, whose
// V8 lowers the op to pmaddubsw + pmaddwd; so only the Worker loads this build.
//
// Activation layout of one token, K = paddedCols(cols), nb = K/32 (fits in xqStride(cols)):
//   [0, K) q⁺ as u8, natural order; [K, 2K) q⁻; [2K, 2K + 4nb) f32 scale per block.
import { f16Div256At, paddedCols } from './quant-common';

/** f16 to f32 by quant-common's table (the value f16ToF32 gives). */
@inline function f16At(h: u32): f32 {
  return f16Div256At(h) * 256;
}
import { hsum } from './simd-math';

/** Same codes and scales as quantizeActivations (d = amax/127, q = nearest(x · (1/d))), relaxed layout. */
function quantizeRelaxed(xq: usize, x: usize, cols: i32): void {
  const k = paddedCols(cols), nb = k >> 5;
  const neg = xq + <usize>k, scales = xq + (<usize>k << 1);
  for (let b = 0; b < nb; b++) {
    const c0 = b << 5, c1 = min(cols, c0 + 32);
    let amax: f32 = 0;
    for (let c = c0; c < c1; c++) amax = Mathf.max(amax, Mathf.abs(load<f32>(x + (<usize>c << 2))));
    const d: f32 = amax / 127;
    const id: f32 = d != 0 ? <f32>1 / d : 0;
    for (let j = 0; j < 32; j++) {
      const v: f32 = c0 + j < c1 ? load<f32>(x + (<usize>(c0 + j) << 2)) : 0;
      const q = <i32>nearest<f32>(v * id);
      store<u8>(xq + <usize>(c0 + j), <u8>max(q, 0));
      store<u8>(neg + <usize>(c0 + j), <u8>max(-q, 0));
    }
    store<f32>(scales + (<usize>b << 2), d);
  }
}

/** i32x4 partial sums of one block: w 32 i8 codes, a its 32 q⁺ bytes, s its 32 q⁻ bytes. */
@inline function blockRelaxed(w: usize, a: usize, s: usize): v128 {
  const w0 = v128.load(w), w1 = v128.load(w, 16);
  const p = i32x4.relaxed_dot_i8x16_i7x16_add_s(w1, v128.load(a, 16),
    i32x4.relaxed_dot_i8x16_i7x16_add_s(w0, v128.load(a), i32x4.splat(0)));
  const n = i32x4.relaxed_dot_i8x16_i7x16_add_s(w1, v128.load(s, 16),
    i32x4.relaxed_dot_i8x16_i7x16_add_s(w0, v128.load(s), i32x4.splat(0)));
  return i32x4.sub(p, n);
}

@inline function scaled(acc: v128, isum: v128, d: f32): v128 {
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(isum), f32x4.splat(d)));
}

/** out[rows] = Q8_0 W[rows, cols] · x[cols]; xq: scratch of xqStride(cols) bytes. */
export function matvec_q8_0_relaxed(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32): void {
  quantizeRelaxed(xq, x, cols);
  const k = paddedCols(cols), nb = k >> 5;
  const scales = xq + (<usize>k << 1);
  const rowBytes = <usize>k, dBytes = <usize>(nb << 1);
  const pairs = rows & ~1, half = rows >> 1;
  for (let i = 0; i < rows; i++) {
    // Rows r and r + rows/2 alternate: two DRAM streams in flight (as simd-quant.ts's matvec).
    const r = i < pairs ? (i >> 1) + (i & 1) * half : i;
    // Pointers step through the blocks (fewer index computations in V8's code, as simd-quant.ts's dotRow).
    let wp = w + <usize>r * rowBytes, dw = d + <usize>r * dBytes, xp = xq, dx = scales;
    const end = scales + (<usize>nb << 2);
    let a = f32x4.splat(0), b = a;
    for (; dx + 8 <= end; dx += 8) {
      const s0 = blockRelaxed(wp, xp, xp + <usize>k);
      const s1 = blockRelaxed(wp + 32, xp + 32, xp + <usize>k + 32);
      a = scaled(a, s0, f16At(load<u16>(dw)) * load<f32>(dx));
      b = scaled(b, s1, f16At(load<u16>(dw, 2)) * load<f32>(dx, 4));
      wp += 64; xp += 64; dw += 4;
    }
    if (dx < end) a = scaled(a, blockRelaxed(wp, xp, xp + <usize>k), f16At(load<u16>(dw)) * load<f32>(dx));
    store<f32>(out + (<usize>r << 2), hsum(f32x4.add(a, b)));
  }
}
