// WebGPU runners of the f32 KernelOps specs (specs.ts) whose math a WGSL kernel shares, so the same rows
// run on WebGPU too: matvec and matmul on the f32 linear kernel (w [rows, cols], tokens [n, cols]) and
// rmsnorm and swiglu on one row. Host buffers by the spec's names; outputs under the spec's output names.
import type { Gpu } from '../../kernels-gpu/device';
import { storageBuffer } from '../../kernels-gpu/kernel';
import { matmulF32, rmsNorm, swiglu } from '../../kernels-gpu/ops';
import { readF32, upload } from '../kernels-gpu/gpu';
import type { GpuPrepared } from './case';

type Host = Record<string, Float32Array>;

export async function gpuMatmul(
  gpu: Gpu,
  h: Host,
  s: { rows: number; cols: number; n?: number },
): Promise<GpuPrepared> {
  const tokens = s.n ?? 1;
  const out = storageBuffer(gpu, 4 * tokens * s.rows, 'out');
  const op = await matmulF32(
    gpu,
    { w: upload(gpu, h.w, 'w'), x: upload(gpu, h.x), out },
    { n: s.rows, k: s.cols, maxRows: tokens },
  );
  return {
    encode: (pass) => op(pass, tokens),
    read: async () => ({ out: await readF32(gpu, out, tokens * s.rows) }),
  };
}

/** The WGSL linear kernel reads rows in vec4s. */
export const gpuMatmulLacks = (s: { cols: number }): string | null =>
  s.cols % 4 ? 'cols not a multiple of 4 (the WGSL kernel reads vec4s)' : null;

export async function gpuRmsnorm(
  gpu: Gpu,
  h: Host,
  s: { n: number; eps: number },
): Promise<GpuPrepared> {
  const out = storageBuffer(gpu, 4 * s.n, 'out');
  const op = await rmsNorm(
    gpu,
    { x: upload(gpu, h.x), weight: upload(gpu, h.weight), out },
    { n: s.n, eps: s.eps, maxRows: 1 },
  );
  return {
    encode: (pass) => op(pass, 1),
    read: async () => ({ out: await readF32(gpu, out, s.n) }),
  };
}

/** swiglu in place: a = silu(a) · b. */
export async function gpuSwiglu(gpu: Gpu, h: Host, s: { n: number }): Promise<GpuPrepared> {
  const a = upload(gpu, h.a);
  const op = await swiglu(gpu, { gate: a, up: upload(gpu, h.b) }, { n: s.n, maxRows: 1 });
  return {
    encode: (pass) => op(pass, 1),
    read: async () => ({ a: await readF32(gpu, a, s.n) }),
  };
}
