// Node-only loader of the compiled kernels (the Worker gets its WebAssembly.Module from the bundler instead).
import { readFile } from 'node:fs/promises';
import { createWasmKernels } from './index';
import type { KernelBackend } from './types';

const wasmUrl = new URL('./build/kernels.wasm', import.meta.url);

/** Compiles kernels-wasm/build/kernels.wasm (built by `npm run build:wasm`). */
export async function loadKernelsModule(): Promise<WebAssembly.Module> {
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(await readFile(wasmUrl));
  } catch (err) {
    throw new Error(
      `cannot read ${wasmUrl.pathname}: run \`npm run build:wasm\` first (${String(err)})`,
      { cause: err },
    );
  }
  return WebAssembly.compile(bytes);
}

export async function createNodeKernels(): Promise<KernelBackend> {
  return createWasmKernels(await loadKernelsModule());
}
