// A projection's weight as the reference model holds it: dequantized f32, or kept in FP8 with its
// 128×128 block scales and applied through dynamic 1×128 activation quantization + fp8Gemm.
// Which one is a load-time choice (LoadOptions.gemm), like DeepSeek's gemm_impl "bf16" | "fp8".
import type { Fp8Weight } from '../formats/fp8';
import { fp8Gemm, quantizeActivationsFp8, type Fp8Activations } from './fp8';
import { matvec, type Vec } from './ops';

export type Linear =
  | { kind: 'f32'; rows: number; cols: number; w: Float32Array }
  | { kind: 'fp8'; rows: number; cols: number; weight: Fp8Weight; block: [number, number] };

/** Buffers for the FP8 path, sized for the widest projection; allocated once per session. */
export interface LinearScratch {
  act: Fp8Activations;
  out: Float32Array;
}

export function createLinearScratch(maxCols: number, maxRows: number, block = 128): LinearScratch {
  return {
    act: { q: new Uint8Array(maxCols), scale: new Float32Array(Math.ceil(maxCols / block)) },
    out: new Float32Array(maxRows),
  };
}

/** out[rows] = W · x[cols] */
export function linear(out: Vec, lin: Linear, x: Vec, scratch: LinearScratch): void {
  if (lin.kind === 'f32') {
    matvec(out, lin.w, x, lin.rows, lin.cols);
    return;
  }
  quantizeActivationsFp8(x, 1, lin.cols, lin.block[1], scratch.act);
  fp8Gemm(scratch.act, lin.weight, 1, lin.rows, lin.cols, lin.block, scratch.out);
  for (let r = 0; r < lin.rows; r++) out[r] = scratch.out[r];
}
