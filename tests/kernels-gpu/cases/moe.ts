// MoE WGSL rows of the one table (tests/ops/table.ts): the router against moeRoute, the expert permutation against a stable sort, and the whole
// routed-expert dispatch (permute → grouped FP8 GEMM gate/up → SwiGLU → quantize → grouped down →
// weighted scatter-add) against the reference's per-token loop over its chosen experts.
import type { Fp8Weight } from '../../../engine/formats/fp8';
import { createLinearScratch, linear, type Linear } from '../../../engine/deepseek/linear';
import {
  createGateScratch,
  moeRoute as refRoute,
  type GateOptions,
} from '../../../engine/deepseek/moe';
import { swiglu as refSwiglu } from '../../../engine/deepseek/ops';
import { fp8GroupedGemm, fp8Quantize, uploadFp8Weights } from '../../../kernels-gpu/fp8';
import { storageBuffer } from '../../../kernels-gpu/kernel';
import { moePermute, moeRoute, moeScatterAdd } from '../../../kernels-gpu/moe';
import { swiglu } from '../../../kernels-gpu/ops';
import { opCase, prng, type Case, type OpSpec } from '../../ops/case';
import { readF32, readU32, upload } from '../gpu';
import { caseWeight } from './fp8';
import { nonZero } from './inputs';

const gate = (o: Partial<GateOptions>): GateOptions => ({
  scoringFunc: 'sigmoid',
  topkMethod: 'noaux_tc',
  nGroup: 4,
  topkGroup: 2,
  topK: 4,
  normTopkProb: true,
  routedScalingFactor: 2.5,
  ...o,
});

function routeRef(
  logits: Float32Array,
  bias: Float32Array | null,
  rows: number,
  E: number,
  g: GateOptions,
) {
  const idx = new Int32Array(rows * g.topK),
    weight = new Float64Array(rows * g.topK),
    s = createGateScratch(E, g.nGroup);
  const oi = new Int32Array(g.topK),
    ow = new Float64Array(g.topK);
  for (let t = 0; t < rows; t++) {
    refRoute(logits.subarray(t * E, (t + 1) * E), bias, g, oi, ow, s);
    idx.set(oi, t * g.topK);
    weight.set(ow, t * g.topK);
  }
  return { idx, weight };
}

interface RouteShape {
  rows: number;
  E: number;
  groups: number;
  keep: number;
  k: number;
  method: GateOptions['topkMethod'];
  scoring: GateOptions['scoringFunc'];
  scaling: number;
  bias: boolean;
}

const gateOf = (s: RouteShape): GateOptions =>
  gate({
    nGroup: s.groups,
    topkGroup: s.keep,
    topK: s.k,
    topkMethod: s.method,
    scoringFunc: s.scoring,
    routedScalingFactor: s.scaling,
  });

type RouteHost = { logits: Float32Array; bias: Float32Array | null };

const routeSpec: OpSpec<never, RouteShape, RouteHost> = {
  setup: (s) => ({
    logits: nonZero(81 + s.E, s.rows * s.E, 0.01, 4),
    bias: s.bias ? nonZero(82, s.E, 0.001, 0.05) : null,
  }),
  checks(h, s) {
    const { idx, weight } = routeRef(h.logits, h.bias, s.rows, s.E, gateOf(s));
    return [
      { output: 'idx', label: 'vs moeRoute experts', want: idx },
      { output: 'weight', label: 'vs float64 moeRoute weights', want: weight },
    ];
  },
  cost: (s) => ({ flops: 10 * s.rows * s.E, bytes: 4 * s.rows * (s.E + 2 * s.k) }),
  async gpu(gpu, h, s) {
    const g = gateOf(s),
      rows = s.rows;
    const idx = storageBuffer(gpu, 4 * rows * g.topK, 'idx'),
      weight = storageBuffer(gpu, 4 * rows * g.topK, 'weight');
    const op = await moeRoute(
      gpu,
      { logits: upload(gpu, h.logits), bias: h.bias && upload(gpu, h.bias), idx, weight },
      { experts: s.E, gate: g, maxRows: rows },
    );
    return {
      encode: (pass) => op(pass, rows),
      read: async () => ({
        idx: await readU32(gpu, idx, rows * g.topK),
        weight: await readF32(gpu, weight, rows * g.topK),
      }),
    };
  },
};

const routeCase = (rows: number, E: number, g: GateOptions, bias = true) =>
  opCase(
    'moe-route',
    routeSpec,
    {
      rows,
      E,
      groups: g.nGroup,
      keep: g.topkGroup,
      k: g.topK,
      method: g.topkMethod,
      scoring: g.scoringFunc,
      scaling: g.routedScalingFactor,
      bias,
    },
    1e-10,
  );

/** Seeded expert choices: topK distinct experts per token. */
function choices(seed: number, rows: number, E: number, topK: number): Uint32Array {
  const r = prng(seed),
    idx = new Uint32Array(rows * topK);
  for (let t = 0; t < rows; t++) {
    const pool = Array.from({ length: E }, (_, e) => e);
    for (let j = 0; j < topK; j++)
      idx[t * topK + j] = pool.splice(Math.floor(r() * pool.length), 1)[0];
  }
  return idx;
}

interface PermuteShape {
  rows: number;
  E: number;
  k: number;
}

const permuteSpec: OpSpec<never, PermuteShape, Uint32Array> = {
  setup: (s) => choices(91 + s.rows, s.rows, s.E, s.k),
  checks(idx, { rows, E, k: topK }) {
    const n = rows * topK;
    const order = Array.from({ length: n }, (_, a) => a).sort((a, b) => idx[a] - idx[b] || a - b); // stable by expert
    const slotRow = new Uint32Array(n);
    order.forEach((a, row) => (slotRow[a] = row));
    const offsets = Uint32Array.from(
      { length: E + 1 },
      (_, e) => order.filter((a) => idx[a] < e).length,
    );
    return [
      {
        output: 'rowToken',
        label: 'vs a stable sort',
        want: Uint32Array.from(order, (a) => Math.floor(a / topK)),
      },
      { output: 'slotRow', label: 'vs a stable sort', want: slotRow },
      { output: 'offsets', label: 'vs a stable sort', want: offsets },
    ];
  },
  cost: (s) => ({ flops: 0, bytes: 16 * s.rows * s.k }),
  async gpu(gpu, idx, { rows, E, k: topK }) {
    const n = rows * topK;
    const rowToken = storageBuffer(gpu, 4 * n, 'rowToken'),
      slotRow = storageBuffer(gpu, 4 * n, 'slotRow'),
      offsets = storageBuffer(gpu, 4 * (E + 1), 'offsets');
    const op = await moePermute(
      gpu,
      { idx: upload(gpu, idx), rowToken, slotRow, offsets },
      { experts: E, topK, maxRows: rows },
    );
    return {
      encode: (pass) => op(pass, rows),
      read: async () => ({
        rowToken: await readU32(gpu, rowToken, n),
        slotRow: await readU32(gpu, slotRow, n),
        offsets: await readU32(gpu, offsets, E + 1),
      }),
    };
  },
};

const permuteCase = (rows: number, E: number, k: number) =>
  opCase('moe-permute', permuteSpec, { rows, E, k }, 0);

interface DispatchShape {
  rows: number;
  E: number;
  k: number;
  hidden: number;
  inter: number;
}

interface DispatchHost {
  wg: Fp8Weight[];
  wu: Fp8Weight[];
  wd: Fp8Weight[];
  x: Float32Array;
  idx: Uint32Array;
  weights: Float32Array;
}

const dispatchSpec: OpSpec<never, DispatchShape, DispatchHost> = {
  setup({ rows, E, k: topK, hidden, inter }) {
    const fp8 = (name: string, r: number, c: number) =>
      Array.from({ length: E }, (_, e) => caseWeight(100 + e * 3 + name.length, r, c));
    return {
      wg: fp8('gate', inter, hidden),
      wu: fp8('up', inter, hidden),
      wd: fp8('down', hidden, inter),
      x: nonZero(111, rows * hidden, 0.01, 2),
      idx: choices(112, rows, E, topK),
      weights: nonZero(113, rows * topK, 0.1, 1).map(Math.abs),
    };
  },
  checks({ wg, wu, wd, x, idx, weights }, { rows, k: topK, hidden, inter }) {
    const lin = (w: Fp8Weight, r: number, c: number): Linear => ({
      kind: 'fp8',
      rows: r,
      cols: c,
      weight: w,
      block: [128, 128],
    });
    const s = createLinearScratch(Math.max(hidden, inter), Math.max(hidden, inter));
    const h1 = new Float64Array(inter),
      h3 = new Float64Array(inter),
      yy = new Float64Array(hidden),
      out = Float64Array.from(x);
    for (let t = 0; t < rows; t++) {
      const xt = x.subarray(t * hidden, (t + 1) * hidden);
      for (let j = 0; j < topK; j++) {
        const e = idx[t * topK + j];
        linear(h1, lin(wg[e], inter, hidden), xt, s);
        linear(h3, lin(wu[e], inter, hidden), xt, s);
        refSwiglu(h1, h3, inter);
        linear(yy, lin(wd[e], hidden, inter), h1, s);
        for (let i = 0; i < hidden; i++) out[t * hidden + i] += weights[t * topK + j] * yy[i];
      }
    }
    return [{ output: 'x', label: 'vs the float64 per-token expert loop', want: out }];
  },
  cost: ({ rows, E, k, hidden, inter }) => ({
    flops: 6 * rows * k * hidden * inter,
    bytes: 3 * E * hidden * inter + 4 * rows * hidden * 2,
  }),
  async gpu(gpu, { wg, wu, wd, x, idx, weights }, { rows, E, k: topK, hidden, inter }) {
    const n = rows * topK;
    const buf = (floats: number, label: string) => storageBuffer(gpu, 4 * floats, label);
    const xb = upload(gpu, x),
      xq = buf(rows * hidden, 'xq'),
      xs = buf(rows * Math.ceil(hidden / 128), 'xs');
    const rowToken = buf(n, 'rowToken'),
      slotRow = buf(n, 'slotRow'),
      offsets = buf(E + 1, 'offsets');
    const g = buf(n * inter, 'g'),
      u = buf(n * inter, 'u'),
      hq = buf(n * inter, 'hq'),
      hs = buf(n * Math.ceil(inter / 128), 'hs'),
      y = buf(n * hidden, 'y');
    const residual = upload(gpu, x);
    const grouped = (
      w: Fp8Weight[],
      r: number,
      c: number,
      label: string,
      src: { xq: GPUBuffer; xs: GPUBuffer },
      out: GPUBuffer,
      gather: boolean,
    ) =>
      fp8GroupedGemm(
        gpu,
        { weights: uploadFp8Weights(gpu, w, r, c, label), ...src, rowToken, offsets, out },
        { maxRows: n, maxSourceRows: rows, gather },
      );
    const ops = [
      [await fp8Quantize(gpu, { x: xb, q: xq, scale: xs }, { cols: hidden, maxRows: rows }), rows],
      [
        await moePermute(
          gpu,
          { idx: upload(gpu, idx), rowToken, slotRow, offsets },
          { experts: E, topK, maxRows: rows },
        ),
        rows,
      ],
      [await grouped(wg, inter, hidden, 'gate', { xq, xs }, g, true), n],
      [await grouped(wu, inter, hidden, 'up', { xq, xs }, u, true), n],
      [await swiglu(gpu, { gate: g, up: u }, { n: inter, maxRows: n }), n],
      [await fp8Quantize(gpu, { x: g, q: hq, scale: hs }, { cols: inter, maxRows: n }), n],
      [await grouped(wd, hidden, inter, 'down', { xq: hq, xs: hs }, y, false), n],
      [
        await moeScatterAdd(
          gpu,
          { x: residual, y, weight: upload(gpu, weights), slotRow },
          { hidden, topK, maxRows: rows },
        ),
        rows,
      ],
    ] as const;
    return {
      encode: (pass) => ops.forEach(([op, r]) => op(pass, r)),
      read: async () => ({ x: await readF32(gpu, residual, rows * hidden) }),
    };
  },
};

// Intermediate activations are quantized from f32 (GPU) vs float64 (reference): a rare code flip.
const dispatchCase = (rows: number, E: number, k: number, hidden: number, inter: number) =>
  opCase('moe-experts', dispatchSpec, { rows, E, k, hidden, inter }, 1e-6);

export const moeCases: Case[] = [
  routeCase(1, 16, gate({})),
  routeCase(7, 16, gate({})),
  routeCase(5, 64, gate({ nGroup: 8, topkGroup: 3, topK: 6 }), false),
  routeCase(4, 256, gate({ nGroup: 8, topkGroup: 4, topK: 8 })), // DeepSeek-V3's router
  routeCase(3, 64, gate({ topkMethod: 'group_limited_greedy', nGroup: 8, topkGroup: 2, topK: 6 })),
  routeCase(
    3,
    32,
    gate({
      topkMethod: 'greedy',
      scoringFunc: 'softmax',
      nGroup: 1,
      topkGroup: 1,
      topK: 6,
      routedScalingFactor: 1,
    }),
    false,
  ),
  permuteCase(1, 16, 4),
  permuteCase(16, 16, 4),
  permuteCase(9, 256, 8),
  dispatchCase(1, 16, 4, 256, 128),
  dispatchCase(5, 8, 2, 128, 256),
  dispatchCase(16, 16, 4, 256, 128),
];
