// Node-only loader of the compiled kernels (the Worker gets its WebAssembly.Module from the bundler instead).
import { readFile } from 'node:fs/promises';
import { createWasmKernels } from './index';
import type { KernelBackend } from './types';

async function compileBuild(name: 'kernels' | 'kernels-relaxed'): Promise<WebAssembly.Module> {
  const url = new URL(`./build/${name}.wasm`, import.meta.url);
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = new Uint8Array(await readFile(url));
  } catch (err) {
    throw new Error(
      `cannot read ${url.pathname}: run \`npm run build:wasm\` first (${String(err)})`,
      {
        cause: err,
      },
    );
  }
  if (!WebAssembly.validate(bytes))
    throw new Error(`this runtime does not validate ${name}.wasm (relaxed SIMD)`);
  return WebAssembly.compile(bytes);
}

/** Compiles kernels-wasm/build/kernels.wasm (built by `npm run build:wasm`). */
export function loadKernelsModule(): Promise<WebAssembly.Module> {
  return compileBuild('kernels');
}

/** Compiles kernels-wasm/build/kernels-relaxed.wasm; throws where the runtime lacks relaxed SIMD. */
export function loadRelaxedModule(): Promise<WebAssembly.Module> {
  return compileBuild('kernels-relaxed');
}

/**
 * The engine's kernels in Node: kernels-relaxed.wasm where Node validates it (Node 22 does), with its Q4_0
 * kernels (fewer instructions per block, faster decode and prefill: bench/RESULTS.md, 2026-12-07) but the SIMD
 * Q8_0 matvec (the relaxed one is slower under Node 22's V8); kernels.wasm otherwise. Either way bit-identical.
 */
export async function createNodeKernels(): Promise<KernelBackend> {
  const relaxed = await loadRelaxedModule().catch(() => null);
  return relaxed
    ? createWasmKernels(relaxed, { q8: false })
    : createWasmKernels(await loadKernelsModule());
}
