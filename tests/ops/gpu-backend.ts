// The WebGPU backend of the table: a case's `gpu` spec uploads its inputs, its dispatches run in one
// submit, its outputs are read back. The device comes from tests/kernels-gpu/gpu.ts (under CI a
// missing adapter is a failure there, not a skip).
import { submit } from '../../kernels-gpu/kernel';
import { probeGpu } from '../kernels-gpu/gpu';
import type { Gpu } from '../../kernels-gpu/device';
import type { Backend } from './runner';

/** On `device` if given (bench/gpu-device-check.ts picks the high-performance adapter), else the tests' one. */
export async function startWebGpu(device?: Gpu): Promise<Backend> {
  const { gpu, reason } = device ? { gpu: device, reason: null } : await probeGpu();
  if (!gpu) throw new Error(reason ?? 'no WebGPU adapter');
  return {
    name: 'webgpu',
    lacks: (c) =>
      c.spec.gpu ? (c.spec.gpuLacks?.(c.shape) ?? null) : 'no WebGPU kernel for this op',
    async run(c, host) {
      const prepared = await c.spec.gpu!(gpu, host, c.shape);
      await submit(gpu, prepared.encode);
      return { outputs: await prepared.read(), twins: [] };
    },
  };
}
