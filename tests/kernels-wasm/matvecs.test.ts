// Batched decode kernels (kernels-wasm/assembly/simd-matvecs.ts): each token's output must be bit-identical
// to the single-token matvec of the same backend (f32, Q8_0, Q4_0), on both builds, so a sequence decoded in
// a batch samples exactly what it would alone. The float64 references are the conformance table's rows.
import { describe, expect, it } from 'vitest';
import { quantScratchBytes, quantizeQ4_0, quantizeQ8_0 } from '../../kernels-wasm/quant';
import { createWasmKernels } from '../../kernels-wasm/index';
import { readFile } from 'node:fs/promises';
import type { KernelBackend } from '../../kernels-wasm/types';
import { placeBytes, placeF32, prng, uniform } from '../ops/case';
import { MATVECS_SHAPES } from '../ops/matvecs-cases';

const builds = ['kernels.wasm', 'kernels-relaxed.wasm'];
const load = async (file: string) =>
  createWasmKernels(
    await WebAssembly.compile(
      await readFile(new URL(`../../kernels-wasm/build/${file}`, import.meta.url)),
    ),
  );

const shapes: [number, number, number][] = [...MATVECS_SHAPES, [768, 768, 8], [64, 2048, 3]];

/** Bit patterns of out[n, rows], batched, and of one matvec per token, for weights of `format`. */
function runBoth(k: KernelBackend, format: 'f32' | 'q8' | 'q4', [rows, cols, n]: number[]) {
  const rand = prng(rows * 7919 + cols * 31 + n);
  const wf = uniform(rand, rows * cols);
  const x = placeF32(k, uniform(rand, n * cols, -2, 2));
  const out = k.alloc(n * rows),
    one = k.alloc(rows),
    xq = k.alloc(quantScratchBytes(cols, n) / 4);
  const single: number[] = [];
  const mv = k.matvecs!;
  if (format === 'f32') {
    const w = placeF32(k, wf);
    mv.matvecs(out, w, x, rows, cols, n);
    for (let t = 0; t < n; t++) {
      k.matvec(one, w, x + t * cols * 4, rows, cols);
      single.push(...new Uint32Array(k.f32(one, rows).slice().buffer));
    }
  } else {
    const qw = (format === 'q8' ? quantizeQ8_0 : quantizeQ4_0)(wf, rows, cols);
    const w = placeBytes(k, qw.q),
      d = placeBytes(k, qw.d);
    const [batched, matvec] =
      format === 'q8' ? [mv.matvecsQ8, k.quant!.matvecQ8] : [mv.matvecsQ4, k.quant!.matvecQ4];
    batched(out, w, d, x, xq, rows, cols, n);
    for (let t = 0; t < n; t++) {
      matvec(one, w, d, x + t * cols * 4, xq, rows, cols);
      single.push(...new Uint32Array(k.f32(one, rows).slice().buffer));
    }
  }
  return { batched: Array.from(new Uint32Array(k.f32(out, n * rows).slice().buffer)), single };
}

describe.each(builds)('%s: matvecs', (file) => {
  it.each(['f32', 'q8', 'q4'] as const)(
    '%s: each token bit-identical to its own matvec',
    async (format) => {
      const k = await load(file);
      expect(k.matvecs, 'the build exports the batched decode kernels').toBeDefined();
      for (const shape of shapes) {
        const { batched, single } = runBoth(k, format, shape);
        const differ = batched.filter((b, i) => b !== single[i]).length;
        expect(differ, `${format} rows=${shape[0]} cols=${shape[1]} n=${shape[2]}`).toBe(0);
      }
    },
  );
});
