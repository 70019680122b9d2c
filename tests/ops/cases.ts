// The f32 KernelOps rows of the one table (table.ts): shapes, a tolerance as normalized MSE (vs the
// float64 reference and between a SIMD kernel and its scalar twin) and FLOPs/bytes per call; bench/kernels.ts
// times the `bench` ones. Sizes are deliberately awkward (1, 3, 7, 13, 67, 172, ...) so every SIMD tail runs.
import { opCase as row, type Case } from './case';
import { specs, type OpName, type Shapes } from './specs';

function opCase<K extends OpName>(op: K, shape: Shapes[K], nmse: number, bench = false): Case {
  return row(op, specs[op], shape, nmse, { bench });
}

// Measured worst cases: f32 sums of up to 32771 terms ~6e-12 (sequential scalar), element-wise ops ~1e-14.
const dots = 1e-10;
const elementwise = 1e-12;

export const f32Cases: Case[] = [
  ...[
    [1, 1],
    [7, 1],
    [3, 7],
    [13, 67],
    [67, 13],
    [5, 9],
    [172, 288],
    [288, 172],
    [33, 1000],
  ].map(([rows, cols]) => opCase('matvec', { rows, cols }, dots)),
  opCase('matvec', { rows: 768, cols: 768 }, dots, true),
  opCase('matvec', { rows: 2048, cols: 768 }, dots, true),
  opCase('matvec', { rows: 768, cols: 2048 }, dots, true),
  opCase('matvec', { rows: 32000, cols: 288 }, dots, true),

  ...[
    [1, 1, 1],
    [7, 3, 2],
    [13, 67, 3],
    [67, 13, 5],
    [172, 288, 7],
    [288, 288, 1],
    [5, 32771, 5],
  ].map(([rows, cols, n]) => opCase('matmul', { rows, cols, n }, dots)),
  opCase('matmul', { rows: 288, cols: 288, n: 16 }, dots, true),
  opCase('matmul', { rows: 768, cols: 768, n: 32 }, dots, true),

  ...[1, 3, 7, 13, 67, 288, 768].map((n) => opCase('rmsnorm', { n, eps: 1e-5 }, elementwise)),

  ...[
    [1, 1, 2, 0],
    [2, 1, 6, 3],
    [4, 2, 8, 17],
    [3, 1, 14, 5],
    [6, 6, 48, 255],
    [12, 4, 64, 1023],
    [8, 8, 64, 4095],
  ].map(([nHeads, nKvHeads, headDim, pos]) =>
    // The angle pos*freq is rounded to f32 like llama2.c's, an error that grows with pos (1.4e-9 at 4095).
    opCase('rope', { nHeads, nKvHeads, headDim, pos, theta: 10000 }, 1e-8),
  ),
  opCase('rope', { nHeads: 4, nKvHeads: 2, headDim: 16, pos: 100, theta: 500000 }, 1e-8),

  ...[1, 3, 7, 13, 67, 172, 1024].map((n) => opCase('softmax', { n, scale: 8 }, dots)),
  ...[1, 3, 7, 13, 67, 768, 2048].map((n) => opCase('swiglu', { n }, elementwise)),
  ...[1, 3, 7, 13, 67, 288].map((n) => opCase('add', { n }, elementwise)),

  ...[
    [1, 1, 4, 1],
    [2, 2, 7, 3],
    [4, 2, 13, 5],
    [4, 1, 20, 13],
    [8, 2, 16, 33],
    [6, 6, 48, 67],
    [8, 2, 64, 172],
    // four-head score groups with a head left over; four-position V passes with a 2-wide scalar tail per row
    [5, 5, 8, 6],
    [3, 1, 6, 9],
  ].map(([nHeads, nKvHeads, headDim, nPos]) =>
    opCase('attention', { nHeads, nKvHeads, headDim, nPos }, dots),
  ),
  opCase('attention', { nHeads: 12, nKvHeads: 12, headDim: 64, nPos: 256 }, dots, true),
  opCase('attention', { nHeads: 12, nKvHeads: 12, headDim: 64, nPos: 1024 }, dots, true),
];
