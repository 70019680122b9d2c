// The quantized ops' rows of the one table (table.ts; the f32 ops' rows are in cases.ts). Sizes are
// awkward on purpose: cols not a multiple of 32 (padded blocks) or 16 (the FP8 scalar tails), ragged
// 128×128 FP8 blocks, odd token counts (the 8/4/2-token tiles' tails), and the chunked prefill path.
// The `codes=raw` Q8_0 and Q4_0 matvec rows are the relaxed-SIMD build's edge cases (tails of 1..31 columns, odd
// block counts, one row; every code and a wide range of scales), with two Q4_0 matmuls through every tile and
// tail of the relaxed prefill kernel: on wasm-relaxed they must also be
// bit-identical to wasm-simd. Plain code, no Node imports: the Worker test runs them too.
import { opCase, type Case } from './case';
import { F32_DOTS, quantSpecs } from './quant-specs';

const fp8 = (
  rows: number,
  cols: number,
  n: number,
  bench = false,
  br = 128,
  bc = 128,
  xMax?: number,
) =>
  opCase(
    n === 1 ? 'matvecFp8' : 'matmulFp8',
    n === 1 ? quantSpecs.matvecFp8 : quantSpecs.matmulFp8,
    xMax ? { rows, cols, n, br, bc, xMax } : { rows, cols, n, br, bc },
    F32_DOTS,
    bench,
  );

const intCases = (q: 'Q8' | 'Q4') => [
  ...[
    [1, 1],
    [3, 7],
    [13, 67],
    [67, 13],
    [5, 32],
    [7, 33],
    [172, 288],
    [33, 1000],
    [2, 4099],
  ].map(([rows, cols]) =>
    opCase(`matvec${q}`, quantSpecs[`matvec${q}`], { rows, cols, n: 1 }, F32_DOTS),
  ),
  opCase(`matvec${q}`, quantSpecs[`matvec${q}`], { rows: 2048, cols: 2048, n: 1 }, F32_DOTS, true),
  opCase(`matvec${q}`, quantSpecs[`matvec${q}`], { rows: 32000, cols: 288, n: 1 }, F32_DOTS, true),
  ...[
    [1, 1, 2],
    [7, 33, 3],
    [13, 67, 5],
    [67, 13, 2],
    [172, 288, 7],
    [9, 4099, 4],
    [33, 3000, 97],
    // the 2-row × 16/8/4-token tiles and every tail: 31 = 16 + 8 + 4 + 2 + 1 tokens, 15 = 8 + 4 + 2 + 1, 14 = 8 + 4 + 2, odd rows
    [6, 45, 15],
    [5, 100, 14],
    [4, 64, 8],
    [3, 70, 31],
    [2, 32, 16],
  ].map(([rows, cols, n]) =>
    opCase(`matmul${q}`, quantSpecs[`matmul${q}`], { rows, cols, n }, F32_DOTS),
  ),
  opCase(`matmul${q}`, quantSpecs[`matmul${q}`], { rows: 768, cols: 768, n: 32 }, F32_DOTS, true),
];

/** The relaxed-SIMD Q8_0 and Q4_0 matvecs' edge shapes [rows, cols]. */
export const RELAXED_SHAPES: [rows: number, cols: number][] = [
  [1, 1],
  [1, 32],
  [2, 31],
  [3, 33],
  [5, 63],
  [7, 64],
  [4, 65],
  [9, 95],
  [13, 96],
  [6, 200],
  [17, 257],
  [64, 768],
  [3, 2048],
];

export const relaxedCases: Case[] = [
  ...(['Q8', 'Q4'] as const).flatMap((q) =>
    RELAXED_SHAPES.map(([rows, cols]) =>
      opCase(`matvec${q}`, quantSpecs[`matvec${q}`], { rows, cols, n: 1, codes: 'raw' }, F32_DOTS),
    ),
  ),
  // The relaxed Q4_0 matmul's tiles and tails: 21 = 16 + 4 + 1 tokens, 10 = 8 + 2, odd rows.
  ...[
    [4, 96, 21],
    [7, 40, 10],
  ].map(([rows, cols, n]) => opCase('matmulQ4', quantSpecs.matmulQ4, { rows, cols, n }, F32_DOTS)),
];

/** Q4_0 repacked (rows in groups of 8): the engine's shapes, a padded last block, raw codes and scales. */
export const q4x8Cases: Case[] = [
  ...[
    [8, 32],
    [16, 100],
    [24, 288],
    [64, 768],
    [8, 4096],
  ].map(([rows, cols]) =>
    opCase('matvecQ4x8', quantSpecs.matvecQ4x8, { rows, cols, n: 1 }, F32_DOTS),
  ),
  ...[
    [8, 96],
    [16, 2048],
  ].map(([rows, cols]) =>
    opCase('matvecQ4x8', quantSpecs.matvecQ4x8, { rows, cols, n: 1, codes: 'raw' }, F32_DOTS),
  ),
  ...[
    [8, 32, 2],
    [16, 100, 3],
    [40, 288, 7],
    [24, 1000, 33],
  ].map(([rows, cols, n]) =>
    opCase('matmulQ4x8', quantSpecs.matmulQ4x8, { rows, cols, n }, F32_DOTS),
  ),
  opCase('matvecQ4x8', quantSpecs.matvecQ4x8, { rows: 2048, cols: 2048, n: 1 }, F32_DOTS, true),
  opCase('matvecQ4x8', quantSpecs.matvecQ4x8, { rows: 32000, cols: 288, n: 1 }, F32_DOTS, true),
  opCase('matmulQ4x8', quantSpecs.matmulQ4x8, { rows: 768, cols: 768, n: 32 }, F32_DOTS, true),
];

export const quantCases: Case[] = [
  ...intCases('Q8'),
  ...intCases('Q4'),
  ...q4x8Cases,
  ...[
    [1, 1],
    [3, 7],
    [13, 67],
    [67, 13],
    [5, 16],
    [129, 130],
    [200, 300],
    [33, 1000],
  ].map(([r, c]) => fp8(r, c, 1)),
  fp8(13, 67, 1, false, 16, 32), // smaller blocks, 67 = 2 blocks + a ragged one
  fp8(40, 100, 1, false, 7, 24), // blocks that are not multiples of 16: a scalar tail in every block
  // The matvec's unfolded path: |x| · scale ≥ 128 (x · scale · 2^120 could overflow), and cols past the fold buffer.
  fp8(67, 300, 1, false, 128, 128, 3e4),
  fp8(40, 100, 1, false, 7, 24, 3e4),
  fp8(3, 9000, 1),
  fp8(2048, 2048, 1, true),
  fp8(2048, 7168, 1, true),
  ...[
    [1, 1, 2],
    [7, 3, 3],
    [13, 67, 4],
    [67, 13, 5],
    [129, 130, 7],
    [200, 300, 16],
    [9, 3000, 97],
  ].map(([r, c, n]) => fp8(r, c, n)),
  fp8(768, 768, 32, true),
  ...relaxedCases,
];
