// The backends the conformance table runs on. A backend that cannot start here is skipped with its reason.
// The WebGPU backend joins this list when it exists; nothing else in tests/ops names a backend.
import { createTsKernels, createWasmKernels } from '../../kernels-wasm/index';
import { loadKernelsModule } from '../../kernels-wasm/node';
import type { KernelBackend, KernelOps } from '../../kernels-wasm/types';

export interface BackendEntry {
  name: string;
  /** A fresh backend (fresh memory); throws with a readable reason when unavailable here. */
  create(): Promise<KernelBackend>;
  /** Which of the backend's op sets this entry measures. */
  ops(backend: KernelBackend): KernelOps;
  /** Check the main ops against `backend.scalar` too (a SIMD kernel vs its scalar twin). */
  hasTwin: boolean;
}

// Compiled once; each backend instance gets fresh memory from its own instantiation.
let wasmModule: Promise<WebAssembly.Module> | undefined;
async function createWasm(): Promise<KernelBackend> {
  wasmModule ??= loadKernelsModule();
  return createWasmKernels(await wasmModule);
}

export const backends: BackendEntry[] = [
  { name: 'wasm-simd', create: createWasm, ops: (b) => b, hasTwin: true },
  { name: 'wasm-scalar', create: createWasm, ops: (b) => b.scalar, hasTwin: false },
  { name: 'ts', create: async () => createTsKernels(), ops: (b) => b, hasTwin: false },
];

/** Starts each backend once to learn whether it is available; returns the reason when it is not. */
export async function probe(entry: BackendEntry): Promise<string | null> {
  try {
    await entry.create();
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
