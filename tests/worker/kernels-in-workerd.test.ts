// The WASM-SIMD kernels instantiate and compute inside workerd, imported the way the Worker does.
import { expect, it } from 'vitest';
import kernels from '../../kernels-wasm/build/kernels.wasm';
import { createWasmKernels } from '../../kernels-wasm/index';

it('runs a SIMD matvec inside workerd and matches its scalar twin', async () => {
  const k = await createWasmKernels(kernels);
  const rows = 13,
    cols = 67;
  const w = k.alloc(rows * cols),
    x = k.alloc(cols),
    out = k.alloc(rows),
    ref = k.alloc(rows);
  let s = 12345;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  k.write(w, Float32Array.from({ length: rows * cols }, rand));
  k.write(x, Float32Array.from({ length: cols }, rand));
  k.matvec(out, w, x, rows, cols);
  k.scalar.matvec(ref, w, x, rows, cols);
  const a = k.f32(out, rows),
    b = k.f32(ref, rows);
  for (let i = 0; i < rows; i++) expect(a[i]).toBeCloseTo(b[i], 4);
  expect(a.some((v) => v !== 0)).toBe(true);
});
