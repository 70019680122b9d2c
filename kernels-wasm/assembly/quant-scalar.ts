// Scalar twins of the quantized kernels (STYLE #5): element by element, in the same math as the SIMD
// kernels — integer block dots of weight codes and int8 activations, each times d_w · d_x — so a SIMD kernel
// and its twin differ only in f32 rounding order. Weight layouts are described in kernels-wasm/quant.ts.
import { E4M3_RESCALE, e4m3Bits, f16ToF32, paddedCols, quantizeActivations, xqPos, xqStride } from './quant-common';

/** Σ over blocks of (Σ_j code(w, j) · x_j) · d_w · d_x for one row; `q4` picks the code reader. */
function dotRowScalar(row: usize, d: usize, xq: usize, cols: i32, q4: bool): f32 {
  const nb = paddedCols(cols) >> 5;
  const scales = xq + (<usize>nb << 6);
  let sum: f32 = 0;
  for (let b = 0; b < nb; b++) {
    let isum = 0;
    for (let j = 0; j < 32; j++) {
      const w: i32 = q4
        ? ((<i32>load<u8>(row + (<usize>b << 4) + <usize>(j & 15)) >> ((j & 16) >> 2)) & 15) - 8
        : <i32>load<i8>(row + (<usize>b << 5) + <usize>j);
      isum += w * <i32>load<i16>(xq + (<usize>b << 6) + (<usize>xqPos(j) << 1));
    }
    const scale = f16ToF32(load<u16>(d + (<usize>b << 1))) * load<f32>(scales + (<usize>b << 2));
    sum += <f32>isum * scale;
  }
  return sum;
}

function matmulQuantScalar(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32, n: i32, q4: bool): void {
  quantizeActivations(xq, x, cols, n);
  const k = <usize>paddedCols(cols);
  const rowBytes = q4 ? k >> 1 : k, dBytes = k >> 4;
  for (let t = 0; t < n; t++) {
    const xt = xq + <usize>t * xqStride(cols);
    for (let r = 0; r < rows; r++) {
      const v = dotRowScalar(w + <usize>r * rowBytes, d + <usize>r * dBytes, xt, cols, q4);
      store<f32>(out + ((<usize>t * <usize>rows + <usize>r) << 2), v);
    }
  }
}

export function matvec_q8_0_scalar(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32): void {
  matmulQuantScalar(out, w, d, x, xq, rows, cols, 1, false);
}

export function matmul_q8_0_scalar(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32, n: i32): void {
  matmulQuantScalar(out, w, d, x, xq, rows, cols, n, false);
}

export function matvec_q4_0_scalar(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32): void {
  matmulQuantScalar(out, w, d, x, xq, rows, cols, 1, true);
}

export function matmul_q4_0_scalar(out: usize, w: usize, d: usize, x: usize, xq: usize, rows: i32, cols: i32, n: i32): void {
  matmulQuantScalar(out, w, d, x, xq, rows, cols, n, true);
}

/**
 * FP8 E4M3 weights [rows, cols] with one f32 scale_inv per blockRows × blockCols block ([ceil(rows/br),
 * ceil(cols/bc)]), times f32 activations: out[t, r] = Σ_c (e4m3(w[r, c]) · s[r/br, c/bc]) · x[t, c].
 * Each weight is dequantized exactly as engine/formats/fp8.ts dequantizeWeightFp8 does (one f32 rounding).
 */
export function matmul_fp8_scalar(out: usize, w: usize, s: usize, x: usize, _scratch: usize, rows: i32, cols: i32, n: i32, br: i32, bc: i32): void {
  const nbc = (cols + bc - 1) / bc;
  for (let t = 0; t < n; t++) {
    const xt = x + (<usize>t * <usize>cols << 2);
    for (let r = 0; r < rows; r++) {
      const srow = s + (<usize>((r / br) * nbc) << 2), row = w + <usize>r * <usize>cols;
      let sum: f32 = 0;
      for (let c = 0; c < cols; c++) {
        // bits · 2^120 is the E4M3 value exactly; times scale_inv: one rounding, as the reference dequantizes.
        const wv = reinterpret<f32>(e4m3Bits(load<u8>(row + <usize>c))) * E4M3_RESCALE * load<f32>(srow + (<usize>(c / bc) << 2));
        sum += wv * load<f32>(xt + (<usize>c << 2));
      }
      store<f32>(out + ((<usize>t * <usize>rows + <usize>r) << 2), sum);
    }
  }
}

export function matvec_fp8_scalar(out: usize, w: usize, s: usize, x: usize, rows: i32, cols: i32, br: i32, bc: i32): void {
  matmul_fp8_scalar(out, w, s, x, 0, rows, cols, 1, br, bc);
}
