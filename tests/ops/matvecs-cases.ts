// The batched-decode ops' rows of the one table (table.ts): `matvecs`, `matvecsQ8`, `matvecsQ4` take the
// matmul specs' inputs, references and costs (specs.ts, quant-specs.ts), called through the backend's
// `matvecs` op set; their scalar twins are the matmul twins. Token counts cover one token, the 16-token
// pass and its tails; cols not a multiple of 32 (padded blocks) and odd block counts (the even/odd
// accumulators). Bit-identity to one matvec per token is tests/kernels-wasm/matvecs.test.ts's check.
// Plain code, no Node imports.
import type { MatvecsOps } from '../../kernels-wasm/types';
import { opCase, type Case, type Family, type OpSpec } from './case';
import { F32_DOTS, quantSpecs, type QuantShape } from './quant-specs';
import { specs } from './specs';

export const matvecsFamily: Family<MatvecsOps> = {
  name: 'matvecs',
  of: (b) => b.matvecs && { main: b.matvecs, scalar: b.matvecs.scalar },
};

type Shape = { rows: number; cols: number; n: number };

function batched<S extends Shape>(
  base: OpSpec<unknown, S, unknown>,
  invoke: (o: MatvecsOps, p: Record<string, number>, s: S) => void,
): OpSpec<MatvecsOps, S, unknown> {
  const { setup, checks, cost, place } = base;
  return { setup, checks, cost, place, family: matvecsFamily, invoke };
}

export const matvecsSpecs = {
  matvecs: batched(specs.matmul as OpSpec<unknown, Shape, unknown>, (o, p, s) =>
    o.matvecs(p.out, p.w, p.x, s.rows, s.cols, s.n),
  ),
  matvecsQ8: batched(quantSpecs.matmulQ8 as OpSpec<unknown, QuantShape, unknown>, (o, p, s) =>
    o.matvecsQ8(p.out, p.w, p.d, p.x, p.xq, s.rows, s.cols, s.n),
  ),
  matvecsQ4: batched(quantSpecs.matmulQ4 as OpSpec<unknown, QuantShape, unknown>, (o, p, s) =>
    o.matvecsQ4(p.out, p.w, p.d, p.x, p.xq, s.rows, s.cols, s.n),
  ),
};

/** [rows, cols, n]: one token, tails of the 16-token pass, more than one pass, padded and odd block counts. */
export const MATVECS_SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 7, 2],
  [13, 67, 5],
  [67, 13, 3],
  [5, 96, 8],
  [7, 33, 16],
  [9, 100, 17],
  [172, 288, 7],
  [2, 4099, 33],
];

export const matvecsCases: Case[] = [
  ...(['matvecs', 'matvecsQ8', 'matvecsQ4'] as const).flatMap((op) => [
    ...MATVECS_SHAPES.map(([rows, cols, n]) =>
      opCase(op, matvecsSpecs[op], { rows, cols, n }, F32_DOTS),
    ),
    opCase(op, matvecsSpecs[op], { rows: 768, cols: 768, n: 8 }, F32_DOTS, true),
  ]),
];
