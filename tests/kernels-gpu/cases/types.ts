// One row of the GPU conformance table (ggml test-backend-ops style): an op on given shapes, its
// tolerance as normalized MSE against the engine/deepseek reference, and its FLOPs and bytes moved.
import type { Gpu } from '../../../kernels-gpu/device';

export interface PreparedGpuCase {
  /** Records the op's dispatches (inputs are uploaded once, in prepare). */
  encode(pass: GPUComputePassEncoder): void;
  /** The outputs after a run, by name. */
  read(): Promise<Record<string, ArrayLike<number>>>;
  /** The reference outputs by name (computed on demand: large bench cases never need them). */
  reference(): Record<string, ArrayLike<number>>;
}

export interface GpuCase {
  op: string;
  name: string;
  /** Largest NMSE allowed, per output. */
  nmse: number;
  flops: number;
  /** Bytes a perfect kernel must move (weights once, activations in and out). */
  bytes: number;
  /** Run by the conformance test (small enough for llvmpipe). */
  test: boolean;
  /** Timed by bench/gpu.ts. */
  bench: boolean;
  prepare(gpu: Gpu): Promise<PreparedGpuCase>;
}

export function shapeName(op: string, shape: Record<string, number | string>): string {
  return `${op} ${Object.entries(shape)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`;
}
