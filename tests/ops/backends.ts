// Every backend the table runs on: wasm-simd (vs its scalar twins), wasm-scalar, ts, the relaxed-SIMD
// build (vs the scalar twins, and bit-identical to wasm-simd) and WebGPU. A backend that cannot start
// here is skipped with its reason. Node only (reads the .wasm builds).
import { createTsKernels, createWasmKernels } from '../../kernels-wasm/index';
import { loadKernelsModule, loadRelaxedModule } from '../../kernels-wasm/node';
import type { KernelBackend } from '../../kernels-wasm/types';
import { cpuBackend, type BackendEntry } from './runner';

// Compiled once; each backend instance gets fresh memory from its own instantiation.
let wasmModule: Promise<WebAssembly.Module> | undefined;
async function createWasm(): Promise<KernelBackend> {
  wasmModule ??= loadKernelsModule();
  return createWasmKernels(await wasmModule);
}

let relaxedModule: Promise<WebAssembly.Module> | undefined;
async function createRelaxed(): Promise<KernelBackend> {
  relaxedModule ??= loadRelaxedModule();
  return createWasmKernels(await relaxedModule);
}

export const cpuBackends: BackendEntry[] = [
  cpuBackend({ name: 'wasm-simd', create: createWasm, set: 'main', twin: true }),
  cpuBackend({ name: 'wasm-scalar', create: createWasm, set: 'scalar' }),
  cpuBackend({ name: 'ts', create: async () => createTsKernels(), set: 'main' }),
  cpuBackend({
    name: 'wasm-relaxed',
    create: createRelaxed,
    set: 'main',
    twin: true,
    bitTwin: { name: 'wasm-simd', create: createWasm },
  }),
];

/** WebGPU (lavapipe in CI); loaded on start so CPU-only runs never touch the GPU driver. */
export const webgpuBackend: BackendEntry = {
  name: 'webgpu',
  start: async () => (await import('./gpu-backend')).startWebGpu(),
};

export const backends: BackendEntry[] = [...cpuBackends, webgpuBackend];

/** Starts a backend once to learn whether it is available: null, or the reason it is not. */
export async function probe(entry: BackendEntry): Promise<string | null> {
  try {
    await entry.start();
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
