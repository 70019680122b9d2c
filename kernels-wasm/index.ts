// TS binding of the AssemblyScript kernels: instantiates a compiled module (workerd hands the Worker a
// WebAssembly.Module; Node reads it in node.ts) and exposes it as a KernelBackend. Imports nothing Node-only.
import type { KernelBackend, KernelOps } from './types';

export type { KernelBackend, KernelOps } from './types';
export { createTsKernels } from './ts-kernels';

const PAGE = 65536;
const OP_NAMES = ['matvec', 'matmul', 'rmsnorm', 'rope', 'softmax', 'swiglu', 'add', 'attention'] as const;

type Exports = Record<string, unknown> & { memory: WebAssembly.Memory; heapBase(): number };

function pickOps(exports: Exports, suffix: string): KernelOps {
  const ops: Record<string, unknown> = {};
  for (const name of OP_NAMES) {
    const fn = exports[name + suffix];
    if (typeof fn !== 'function') throw new Error(`kernels.wasm lacks export ${name + suffix}: rebuild it (npm run build:wasm)`);
    ops[name] = fn;
  }
  return ops as unknown as KernelOps;
}

/** Instantiates the kernels module; its arena starts at the module's __heap_base. */
export async function createWasmKernels(module: WebAssembly.Module): Promise<KernelBackend> {
  const imports = {
    env: {
      abort(_msg: number, _file: number, line: number, column: number): never {
        throw new Error(`kernels.wasm aborted at ${line}:${column}`);
      },
    },
  };
  const instance = await WebAssembly.instantiate(module, imports);
  const exports = instance.exports as Exports;
  const memory = exports.memory;
  let top = align16(exports.heapBase());

  return {
    ...pickOps(exports, ''),
    scalar: pickOps(exports, '_scalar'),
    alloc(nFloats: number): number {
      if (!Number.isInteger(nFloats) || nFloats < 0) throw new Error(`alloc: bad size ${nFloats}`);
      const ptr = top;
      const end = align16(ptr + nFloats * 4);
      const need = Math.ceil(end / PAGE) - memory.buffer.byteLength / PAGE;
      if (need > 0) memory.grow(need); // throws RangeError past the 4 GiB maximum
      top = end;
      return ptr;
    },
    f32(ptr: number, len: number): Float32Array {
      return new Float32Array(memory.buffer, ptr, len);
    },
    write(ptr: number, data: Float32Array): void {
      new Float32Array(memory.buffer, ptr, data.length).set(data);
    },
    get bytesUsed(): number {
      return top;
    },
  };
}

function align16(n: number): number {
  return Math.ceil(n / 16) * 16;
}
