// kernels-relaxed.wasm in Node (where WebAssembly.validate accepts relaxed SIMD, as Node 22 does): the binding
// picks the relaxed-SIMD Q8_0 matvec and Q4_0 kernels; createNodeKernels (the engine's in Node) takes the Q4_0
// ones and keeps the SIMD Q8_0 matvec. Its conformance (bit-identical to wasm-simd, close to the scalar twin, on
// the table's edge cases) is the wasm-relaxed backend of tests/kernels-wasm/conformance.test.ts.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { createWasmKernels } from '../../kernels-wasm/index';
import { createNodeKernels } from '../../kernels-wasm/node';

const bytes = readFileSync(
  new URL('../../kernels-wasm/build/kernels-relaxed.wasm', import.meta.url),
);
const supported = WebAssembly.validate(bytes);

it.skipIf(!supported)(
  'createWasmKernels binds matvecQ8 to the relaxed kernel and keeps the scalar twin',
  async () => {
    const k = await createWasmKernels(new WebAssembly.Module(bytes));
    const rows = 5,
      cols = 70,
      kk = 96;
    const w = k.alloc((rows * kk) / 4),
      d = k.alloc(rows * 3),
      x = k.alloc(cols),
      xq = k.alloc(2 * kk),
      a = k.alloc(rows),
      b = k.alloc(rows);
    k.bytes!(w, rows * kk).forEach((_, i, arr) => (arr[i] = (i * 37) & 255));
    new Uint16Array(k.bytes!(d, rows * 6).buffer, d, rows * 3).fill(0x3c00);
    k.write(
      x,
      Float32Array.from({ length: cols }, (_, i) => Math.sin(i)),
    );
    k.quant!.matvecQ8(a, w, d, x, xq, rows, cols);
    k.quant!.scalar.matvecQ8(b, w, d, x, xq, rows, cols);
    for (let r = 0; r < rows; r++) expect(k.f32(a, rows)[r]).toBeCloseTo(k.f32(b, rows)[r], 3);
  },
);

/** The wasm function behind an export (its `name` is the function index, shared by every instance). */
async function exportNames(names: string[]): Promise<string[]> {
  const { exports } = await WebAssembly.instantiate(new WebAssembly.Module(bytes), {
    env: { abort: () => {} },
  });
  return names.map((n) => (exports[n] as { name: string }).name);
}

it.skipIf(!supported)(
  'createNodeKernels binds the relaxed Q4_0 kernels and the SIMD Q8_0 matvec',
  async () => {
    const q = (await createNodeKernels()).quant!;
    const [mv4, mm4, mv8, mv8r] = await exportNames([
      'matvec_q4_0_relaxed',
      'matmul_q4_0_relaxed',
      'matvec_q8_0',
      'matvec_q8_0_relaxed',
    ]);
    expect((q.matvecQ4 as unknown as { name: string }).name).toBe(mv4);
    expect((q.matmulQ4 as unknown as { name: string }).name).toBe(mm4);
    expect((q.matvecQ8 as unknown as { name: string }).name).toBe(mv8);
    expect(mv8).not.toBe(mv8r);
  },
);
