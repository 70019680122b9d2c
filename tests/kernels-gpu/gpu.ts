// The WebGPU device for tests: found, or skipped with the reason printed on a developer's machine
// without one. Under CI (`CI` set) a missing adapter is a failure, never a skip: .ci/run installs lavapipe.
import { describeGpu, requestGpu, type Gpu } from '../../kernels-gpu/device';
import { readBuffer, uploadBuffer } from '../../kernels-gpu/kernel';

export interface GpuProbe {
  gpu: Gpu | null;
  reason: string | null;
}

let probed: Promise<GpuProbe> | undefined;

export function probeGpu(): Promise<GpuProbe> {
  probed ??= requestGpu().then(
    (gpu) => ({ gpu, reason: null }),
    (err: unknown) => {
      const reason = err instanceof Error ? err.message : String(err);
      if (process.env.CI)
        throw new Error(`CI must have a WebGPU adapter (tools/install-lavapipe.sh): ${reason}`);
      console.warn(`WebGPU tests skipped: ${reason}`);
      return { gpu: null, reason };
    },
  );
  return probed;
}

export { describeGpu };

/** A storage buffer with the values of `data` (f32 unless given as Uint32Array/Int32Array). */
export function upload(
  gpu: Gpu,
  data: Float32Array | Uint32Array | Int32Array | Uint8Array,
  label = 'test',
): GPUBuffer {
  return uploadBuffer(gpu, data, label);
}

export async function readF32(gpu: Gpu, buffer: GPUBuffer, n: number): Promise<Float32Array> {
  return new Float32Array(await readBuffer(gpu, buffer, n * 4));
}

export async function readU32(gpu: Gpu, buffer: GPUBuffer, n: number): Promise<Uint32Array> {
  return new Uint32Array(await readBuffer(gpu, buffer, n * 4));
}
