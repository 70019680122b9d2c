// Exports for bench/quant.ts --fma only (kernels-relaxed.wasm): does f32x4.relaxed_madd (FMA where the host
// lowers it so) beat separate f32x4.mul + f32x4.add on this CPU? A register-only FMA peak, and the f32 matmul's
// 4-row × 2-token tile (simd-dot.ts dot4x2) with FMA, to set beside bench_peak_f32 and `matmul`. Not part of
// the engine: FMA rounds once where mul + add round twice, so results would differ from the scalar twins.
import { hsum4 } from './simd-math';

/** iters × 12 independent f32x4.relaxed_madd chains: 96 flops per iteration (m, c from the caller). */
export function bench_peak_fma(iters: i32, m: f32, c: f32): f32 {
  const mv = f32x4.splat(m), cv = f32x4.splat(c);
  let a0 = f32x4.splat(1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
  let b0 = f32x4.splat(2), b1 = b0, b2 = b0, b3 = b0, b4 = b0, b5 = b0;
  for (let i = 0; i < iters; i++) {
    a0 = f32x4.relaxed_madd(a0, mv, cv); a1 = f32x4.relaxed_madd(a1, mv, cv); a2 = f32x4.relaxed_madd(a2, mv, cv);
    a3 = f32x4.relaxed_madd(a3, mv, cv); a4 = f32x4.relaxed_madd(a4, mv, cv); a5 = f32x4.relaxed_madd(a5, mv, cv);
    b0 = f32x4.relaxed_madd(b0, mv, cv); b1 = f32x4.relaxed_madd(b1, mv, cv); b2 = f32x4.relaxed_madd(b2, mv, cv);
    b3 = f32x4.relaxed_madd(b3, mv, cv); b4 = f32x4.relaxed_madd(b4, mv, cv); b5 = f32x4.relaxed_madd(b5, mv, cv);
  }
  const s = hsum4(f32x4.add(a0, b0), f32x4.add(a1, b1), f32x4.add(a2, b2), f32x4.add(f32x4.add(a3, b3), f32x4.add(f32x4.add(a4, b4), f32x4.add(a5, b5))));
  return f32x4.extract_lane(s, 0);
}

/** dot4x2 with FMA: rows w0..w0+4·stride times tokens xa, xb; cols % 4 == 0. */
@inline function dot4x2Fma(outA: usize, outB: usize, w0: usize, stride: usize, xa: usize, xb: usize, cols: i32): void {
  const w1 = w0 + stride, w2 = w1 + stride, w3 = w2 + stride;
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  const end = <usize>cols << 2;
  for (let j: usize = 0; j < end; j += 16) {
    const x0 = v128.load(xa + j), x1 = v128.load(xb + j);
    let wv = v128.load(w0 + j); a0 = f32x4.relaxed_madd(wv, x0, a0); b0 = f32x4.relaxed_madd(wv, x1, b0);
    wv = v128.load(w1 + j); a1 = f32x4.relaxed_madd(wv, x0, a1); b1 = f32x4.relaxed_madd(wv, x1, b1);
    wv = v128.load(w2 + j); a2 = f32x4.relaxed_madd(wv, x0, a2); b2 = f32x4.relaxed_madd(wv, x1, b2);
    wv = v128.load(w3 + j); a3 = f32x4.relaxed_madd(wv, x0, a3); b3 = f32x4.relaxed_madd(wv, x1, b3);
  }
  v128.store(outA, hsum4(a0, a1, a2, a3));
  v128.store(outB, hsum4(b0, b1, b2, b3));
}

/** out[n, rows] = x[n, cols] · Wᵀ in 4×2 FMA tiles, as `matmul`'s tile loop; rows % 4 == 0, n even, cols % 4 == 0. */
export function bench_matmul_fma(out: usize, w: usize, x: usize, rows: i32, cols: i32, n: i32): void {
  const stride = <usize>cols << 2, outStride = <usize>rows << 2;
  const chunk = max(2, (65536 / max(cols, 1)) & ~1);
  for (let t0 = 0; t0 < n; t0 += chunk) {
    const tEnd = min(n, t0 + chunk);
    for (let r = 0; r < rows; r += 4) {
      const wr = w + <usize>r * stride, o = out + (<usize>r << 2);
      for (let t = t0; t < tEnd; t += 2) {
        const oa = o + <usize>t * outStride;
        dot4x2Fma(oa, oa + outStride, wr, stride, x + <usize>t * stride, x + <usize>(t + 1) * stride, cols);
      }
    }
  }
}
