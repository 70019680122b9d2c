// FP8 WGSL rows of the one table (tests/ops/table.ts): activation quantization and the block-scaled
// GEMV/GEMM against engine/deepseek/fp8
// (quantizeActivationsFp8 + fp8Gemm, which sum each 128-block in f32 and then scale, as the GPU does).
import {
  E4M3_VALUES,
  dequantizeWeightFp8,
  quantizeWeightFp8,
  type Fp8Weight,
} from '../../../engine/formats/fp8';
import { fp8Gemm, quantizeActivationsFp8 } from '../../../engine/deepseek/fp8';
import { matvec } from '../../../engine/deepseek/ops';
import { fp8Linear, fp8Quantize, uploadFp8Weights } from '../../../kernels-gpu/fp8';
import { storageBuffer } from '../../../kernels-gpu/kernel';
import { readF32, upload } from '../gpu';
import { nonZero, randomCodes, scales } from './inputs';
import { opCase, type Case, type OpSpec } from '../../ops/case';

const decode = (q: Uint8Array) => Float32Array.from(q, (c) => E4M3_VALUES[c]);

/** A weight [n, k]: quantized from seeded floats, or random codes + scales when too big to quantize in JS. */
export function caseWeight(seed: number, n: number, k: number): Fp8Weight {
  if (n * k <= 1 << 20) return quantizeWeightFp8(nonZero(seed, n * k, 0.01, 0.1), n, k);
  return {
    q: randomCodes(seed, n * k),
    scaleInv: scales(seed + 1, Math.ceil(n / 128) * Math.ceil(k / 128), 0.05 / 448),
  };
}

const quantizeSpec: OpSpec<never, { rows: number; cols: number }, Float32Array> = {
  setup: (s) => nonZero(11 + s.rows, s.rows * s.cols, 1e-3, 4),
  checks(x, { rows, cols }) {
    const a = quantizeActivationsFp8(x, rows, cols);
    return [
      { output: 'q', label: 'vs quantizeActivationsFp8 codes', want: decode(a.q) },
      { output: 'scale', label: 'vs quantizeActivationsFp8 scales', want: a.scale },
    ];
  },
  cost: ({ rows, cols }) => ({
    flops: 3 * rows * cols,
    bytes: 8 * rows * cols + 4 * rows * Math.ceil(cols / 128),
  }),
  async gpu(gpu, x, { rows, cols }) {
    const blocks = Math.ceil(cols / 128);
    const xb = upload(gpu, x),
      q = storageBuffer(gpu, 4 * rows * cols, 'q'),
      s = storageBuffer(gpu, 4 * rows * blocks, 's');
    const op = await fp8Quantize(gpu, { x: xb, q, scale: s }, { cols, maxRows: rows });
    return {
      encode: (pass) => op(pass, rows),
      read: async () => ({
        q: await readF32(gpu, q, rows * cols),
        scale: await readF32(gpu, s, rows * blocks),
      }),
    };
  },
};

interface LinearShape {
  rows: number;
  n: number;
  k: number;
}

/** FP8 weights × activations, quantized to FP8 per 128-block (`w8a32`: passed through as f32). */
function linearSpec(
  weightOnly: boolean,
): OpSpec<never, LinearShape, { w: Fp8Weight; x: Float32Array }> {
  return {
    setup: ({ rows, n, k }) => ({
      w: caseWeight(21 + n, n, k),
      x: nonZero(22 + rows, rows * k, 1e-3, 2),
    }),
    checks({ w, x }, { rows, n, k }) {
      if (!weightOnly) {
        const want = fp8Gemm(quantizeActivationsFp8(x, rows, k), w, rows, n, k);
        return [{ output: 'out', label: 'vs float64 fp8Gemm', want }];
      }
      const wf = dequantizeWeightFp8(w, n, k),
        out = new Float64Array(rows * n); // the reference's 'dequantized' GEMM
      for (let t = 0; t < rows; t++)
        matvec(out.subarray(t * n, (t + 1) * n), wf, x.subarray(t * k, (t + 1) * k), n, k);
      return [{ output: 'out', label: 'vs float64 dequantized W · x', want: out }];
    },
    cost: ({ rows, n, k }) => ({
      flops: 2 * rows * n * k,
      bytes: n * k + (4 * n * Math.ceil(k / 128)) / 128 + 4 * rows * (k + n),
    }),
    async gpu(gpu, { w, x }, { rows, n, k }) {
      const kBlocks = Math.ceil(k / 128);
      const weight = uploadFp8Weights(gpu, [w], n, k, `w${n}x${k}`);
      const xb = upload(gpu, x),
        xq = storageBuffer(gpu, 4 * rows * k, 'xq'),
        xs = storageBuffer(gpu, 4 * rows * kBlocks, 'xs');
      const out = storageBuffer(gpu, 4 * rows * n, 'out');
      const quant = await fp8Quantize(
        gpu,
        { x: xb, q: xq, scale: xs },
        { cols: k, maxRows: rows, passThrough: weightOnly },
      );
      const lin = await fp8Linear(gpu, { weight, xq, xs, out }, { maxRows: rows });
      return {
        encode(pass) {
          quant(pass, rows);
          lin(pass, rows);
        },
        read: async () => ({ out: await readF32(gpu, out, rows * n) }),
      };
    },
  };
}

const linearSpecs = { w8a8: linearSpec(false), w8a32: linearSpec(true) };

// A rare tie or 1-ulp division difference moves one value by one code (2^-4 relative): ≤ 1e-5 overall.
const quantizeCase = (rows: number, cols: number) =>
  opCase('fp8-quantize', quantizeSpec, { rows, cols }, 1e-5);

function linearCase(
  rows: number,
  n: number,
  k: number,
  opts: { test?: boolean; bench?: boolean; weightOnly?: boolean } = {},
): Case {
  const weightOnly = opts.weightOnly ?? false;
  // fp8Linear picks its GEMV kernel up to 8 rows, its GEMM past that; one spec drives both.
  const op = (rows <= 8 ? 'fp8-gemv' : 'fp8-gemm') + (weightOnly ? '-w8a32' : '');
  // f32 block sums in another order: ~1e-13; a rare activation code one step off (see quantize): ≤ 1e-6.
  return opCase(
    op,
    linearSpecs[weightOnly ? 'w8a32' : 'w8a8'],
    { rows, n, k },
    weightOnly ? 1e-10 : 1e-6,
    {
      test: opts.test,
      bench: opts.bench,
    },
  );
}

export const fp8Cases: Case[] = [
  ...[
    [1, 16],
    [3, 200],
    [5, 128],
    [2, 7168],
  ].map(([r, c]) => quantizeCase(r, c)),
  // Ragged shapes on purpose: N not a multiple of 8/128, K with a partial last block (96, 320).
  ...[
    [1, 64, 128],
    [1, 200, 96],
    [3, 257, 320],
    [8, 130, 256],
  ].map(([m, n, k]) => linearCase(m, n, k)),
  ...[
    [9, 130, 256],
    [33, 200, 304],
    [64, 256, 512],
  ].map(([m, n, k]) => linearCase(m, n, k)),
  // Weight-only FP8 (activations pass through unquantized) vs dequantized weights in float64.
  linearCase(1, 200, 96, { weightOnly: true }),
  linearCase(5, 257, 320, { weightOnly: true }),
  linearCase(20, 130, 256, { weightOnly: true }),
  linearCase(1, 2048, 2048, { bench: true }),
  linearCase(4, 2048, 2048, { bench: true }),
  linearCase(64, 2048, 2048, { bench: true }),
  // DeepSeek-V3 shapes (hidden 7168, MoE inter 2048): timed only; too slow for llvmpipe in CI.
  linearCase(1, 7168, 7168, { test: false, bench: true }),
  linearCase(1, 4096, 7168, { test: false, bench: true }),
  linearCase(1, 7168, 2048, { test: false, bench: true }),
  linearCase(16, 4096, 7168, { test: false, bench: true }),
];
