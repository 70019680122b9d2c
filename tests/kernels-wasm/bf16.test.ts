// BF16 weights (kernels-wasm/assembly/simd-bf16.ts): a BF16 value widens to f32 exactly, so on the same
// bits the BF16 kernels must give the f32 kernels' outputs bit for bit (matvec; matmul's few-token path,
// n ≤ 4), on both builds; the scalar twins and every n are checked against a float64 reference.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createWasmKernels } from '../../kernels-wasm/index';
import type { KernelBackend } from '../../kernels-wasm/types';
import { nmse, placeBytes, placeF32, prng, uniform } from '../ops/case';

const builds = ['kernels.wasm', 'kernels-relaxed.wasm'];
const load = async (file: string) =>
  createWasmKernels(
    await WebAssembly.compile(
      await readFile(new URL(`../../kernels-wasm/build/${file}`, import.meta.url)),
    ),
  );

// cols: whole 16-float blocks, a 4-float tail, a scalar tail, and all three; rows odd and even.
const shapes: [number, number][] = [
  [64, 128],
  [33, 20],
  [7, 3],
  [130, 519],
  [1, 16],
  [257, 7],
];

/** Random BF16 weights (bits) and the same values as f32. */
function weights(rand: () => number, n: number) {
  const f = uniform(rand, n, -0.5, 0.5);
  const u = new Uint32Array(f.buffer);
  const bits = Uint16Array.from(u, (x) => x >>> 16);
  for (let i = 0; i < n; i++) u[i] = (u[i] >>> 16) << 16;
  return { bits, f32: f };
}

const bitsOf = (k: KernelBackend, p: number, n: number) =>
  Array.from(new Uint32Array(k.f32(p, n).slice().buffer));

function reference(w: Float32Array, x: Float32Array, rows: number, cols: number, n: number) {
  const out = new Float64Array(n * rows);
  for (let t = 0; t < n; t++)
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let i = 0; i < cols; i++) s += w[r * cols + i] * x[t * cols + i];
      out[t * rows + r] = s;
    }
  return out;
}

describe.each(builds)('%s: BF16 matvec / matmul', (file) => {
  it('are bit-identical to the f32 kernels on the widened weights (matvec, matmul n ≤ 4)', async () => {
    const k = await load(file);
    expect(k.bf16, 'the build exports the BF16 kernels').toBeDefined();
    for (const [rows, cols] of shapes) {
      const rand = prng(rows * 131 + cols);
      const { bits, f32 } = weights(rand, rows * cols);
      const wb = placeBytes(k, bits),
        wf = placeF32(k, f32);
      const x = placeF32(k, uniform(rand, 4 * cols, -2, 2));
      const a = k.alloc(4 * rows),
        b = k.alloc(4 * rows);
      k.matvec(a, wf, x, rows, cols);
      k.bf16!.matvecBf16(b, wb, x, rows, cols);
      expect(bitsOf(k, b, rows), `matvec ${rows}×${cols}`).toEqual(bitsOf(k, a, rows));
      for (const n of [2, 3, 4]) {
        k.matmul(a, wf, x, rows, cols, n);
        k.bf16!.matmulBf16(b, wb, x, rows, cols, n);
        expect(bitsOf(k, b, n * rows), `matmul ${rows}×${cols}, n=${n}`).toEqual(
          bitsOf(k, a, n * rows),
        );
      }
    }
  });

  it('match a float64 reference at any n, SIMD and scalar twins (NMSE < 1e-12)', async () => {
    const k = await load(file);
    for (const [rows, cols] of shapes)
      for (const n of [1, 2, 5, 9]) {
        const rand = prng(rows * 7 + cols * 3 + n);
        const { bits, f32 } = weights(rand, rows * cols);
        const xs = uniform(rand, n * cols, -2, 2);
        const want = reference(f32, xs, rows, cols, n);
        const wb = placeBytes(k, bits),
          x = placeF32(k, xs),
          out = k.alloc(n * rows);
        for (const [name, ops] of [
          ['simd', k.bf16!],
          ['scalar', k.bf16!.scalar],
        ] as const) {
          k.f32(out, n * rows).fill(NaN);
          if (n === 1) ops.matvecBf16(out, wb, x, rows, cols);
          else ops.matmulBf16(out, wb, x, rows, cols, n);
          const got = k.f32(out, n * rows);
          expect(nmse(got, want), `${name} ${rows}×${cols}, n=${n}`).toBeLessThan(1e-12);
        }
      }
  });
});
