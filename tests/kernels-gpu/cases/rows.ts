// Row-wise cases: RMSNorm, RoPE with YaRN, SwiGLU, embedding lookup and the f32 linear layer (router,
// LM head), each against its engine/deepseek float64 twin.
import {
  parseDeepSeekConfig,
  deepSeekConfigToJson,
  type DeepSeekConfig,
} from '../../../engine/deepseek/config';
import { matvec, rmsNorm as refRmsNorm, swiglu as refSwiglu } from '../../../engine/deepseek/ops';
import {
  applyRope,
  ropeAngles,
  ropeAttentionFactor,
  ropeInvFreq,
} from '../../../engine/deepseek/rope';
import { SYNTHETIC_DEEPSEEK_CONFIG } from '../../../engine/deepseek/synthetic';
import { storageBuffer } from '../../../kernels-gpu/kernel';
import {
  embedding,
  matmulF32,
  rmsNorm,
  rope,
  swiglu,
  uploadRopeTable,
} from '../../../kernels-gpu/ops';
import { prng } from '../../ops/harness';
import { readF32, upload } from '../gpu';
import { nonZero } from './inputs';
import { shapeName, type GpuCase } from './types';

// f32 kernels vs float64 references: rounding only (measured ≤ 1e-13).
const F32 = 1e-10;

/** rowInfo [rows] × (token, pos, slot, 0) with seeded tokens and positions. */
export function rowInfo(seed: number, rows: number, vocab: number, maxPos: number): Uint32Array {
  const r = prng(seed),
    info = new Uint32Array(rows * 4);
  for (let t = 0; t < rows; t++)
    info.set([Math.floor(r() * vocab), Math.floor(r() * maxPos), t, 0], t * 4);
  return info;
}

function rmsNormCase(rows: number, n: number, inStride = n): GpuCase {
  return {
    op: 'rmsnorm',
    name: shapeName('rmsnorm', { rows, n, inStride }),
    nmse: F32,
    flops: 4 * rows * n,
    bytes: 12 * rows * n,
    test: true,
    bench: false,
    async prepare(gpu) {
      const x = nonZero(31 + n, rows * inStride, 0.01, 3),
        w = nonZero(32, n, 0.5, 1.5);
      const out = storageBuffer(gpu, 4 * rows * n, 'out');
      const op = await rmsNorm(
        gpu,
        { x: upload(gpu, x), weight: upload(gpu, w), out },
        { n, eps: 1e-6, maxRows: rows, inStride },
      );
      return {
        encode: (pass) => op(pass, rows),
        read: async () => ({ out: await readF32(gpu, out, rows * n) }),
        reference() {
          const ref = new Float64Array(rows * n);
          for (let t = 0; t < rows; t++)
            refRmsNorm(
              ref.subarray(t * n, (t + 1) * n),
              x.subarray(t * inStride, t * inStride + n),
              w,
              n,
              1e-6,
            );
          return { out: ref };
        },
      };
    },
  };
}

function ropeCase(
  rows: number,
  heads: number,
  nope: number,
  config: DeepSeekConfig,
  maxPos: number,
): GpuCase {
  const dim = config.qkRopeHeadDim,
    headStride = nope + dim,
    rowStride = heads * headStride;
  const yarn = config.ropeScaling ? 'yarn' : 'plain';
  return {
    op: 'rope',
    name: shapeName('rope', { rows, heads, nope, dim, maxPos, scaling: yarn }),
    nmse: F32,
    flops: 6 * rows * heads * dim,
    bytes: 8 * rows * heads * dim,
    test: true,
    bench: false,
    async prepare(gpu) {
      const x = nonZero(41 + heads, rows * rowStride, 0.1, 2),
        info = rowInfo(42, rows, 1, maxPos);
      const xb = upload(gpu, x);
      const op = await rope(
        gpu,
        { x: xb, table: uploadRopeTable(gpu, config, maxPos), rowInfo: upload(gpu, info) },
        { heads, rowStride, headStride, offset: nope, dim, maxPos, maxRows: rows },
      );
      return {
        encode: (pass) => op(pass, rows),
        read: async () => ({ x: await readF32(gpu, xb, rows * rowStride) }),
        reference() {
          const ref = Float64Array.from(x),
            inv = ropeInvFreq(dim, config.ropeTheta, config.ropeScaling);
          const cos = new Float64Array(dim / 2),
            sin = new Float64Array(dim / 2);
          for (let t = 0; t < rows; t++) {
            ropeAngles(info[t * 4 + 1], inv, ropeAttentionFactor(config.ropeScaling), cos, sin);
            for (let h = 0; h < heads; h++)
              applyRope(ref, t * rowStride + h * headStride + nope, dim, cos, sin);
          }
          return { x: ref };
        },
      };
    },
  };
}

function swigluCase(rows: number, n: number): GpuCase {
  return {
    op: 'swiglu',
    name: shapeName('swiglu', { rows, n }),
    nmse: F32,
    flops: 5 * rows * n,
    bytes: 12 * rows * n,
    test: true,
    bench: false,
    async prepare(gpu) {
      const g = nonZero(51, rows * n, 0.01, 8),
        u = nonZero(52, rows * n);
      const gb = upload(gpu, g);
      const op = await swiglu(gpu, { gate: gb, up: upload(gpu, u) }, { n, maxRows: rows });
      return {
        encode: (pass) => op(pass, rows),
        read: async () => ({ gate: await readF32(gpu, gb, rows * n) }),
        reference() {
          const ref = Float64Array.from(g);
          refSwiglu(ref, u, rows * n);
          return { gate: ref };
        },
      };
    },
  };
}

function embeddingCase(rows: number, vocab: number, hidden: number): GpuCase {
  return {
    op: 'embedding',
    name: shapeName('embedding', { rows, vocab, hidden }),
    nmse: 0,
    flops: 0,
    bytes: 8 * rows * hidden,
    test: true,
    bench: false,
    async prepare(gpu) {
      const table = nonZero(61, vocab * hidden),
        info = rowInfo(62, rows, vocab, 1);
      const out = storageBuffer(gpu, 4 * rows * hidden, 'out');
      const op = await embedding(
        gpu,
        { table: upload(gpu, table), rowInfo: upload(gpu, info), out },
        { vocab, hidden, maxRows: rows },
      );
      return {
        encode: (pass) => op(pass, rows),
        read: async () => ({ out: await readF32(gpu, out, rows * hidden) }),
        reference() {
          const ref = new Float32Array(rows * hidden);
          for (let t = 0; t < rows; t++)
            ref.set(table.subarray(info[t * 4] * hidden, (info[t * 4] + 1) * hidden), t * hidden);
          return { out: ref };
        },
      };
    },
  };
}

function matmulCase(label: string, rows: number, n: number, k: number, bench = false): GpuCase {
  return {
    op: label,
    name: shapeName(label, { rows, n, k }),
    nmse: F32,
    flops: 2 * rows * n * k,
    bytes: 4 * (n * k + rows * (n + k)),
    test: true,
    bench,
    async prepare(gpu) {
      const w = nonZero(71 + n, n * k, 0.01, 0.1),
        x = nonZero(72, rows * k);
      const out = storageBuffer(gpu, 4 * rows * n, 'out');
      const op = await matmulF32(
        gpu,
        { w: upload(gpu, w, label), x: upload(gpu, x), out },
        { n, k, maxRows: rows },
      );
      return {
        encode: (pass) => op(pass, rows),
        read: async () => ({ out: await readF32(gpu, out, rows * n) }),
        reference() {
          const ref = new Float64Array(rows * n);
          for (let t = 0; t < rows; t++)
            matvec(ref.subarray(t * n, (t + 1) * n), w, x.subarray(t * k, (t + 1) * k), n, k);
          return { out: ref };
        },
      };
    },
  };
}

const yarnConfig = parseDeepSeekConfig(deepSeekConfigToJson(SYNTHETIC_DEEPSEEK_CONFIG));
const plainConfig: DeepSeekConfig = { ...yarnConfig, ropeScaling: null, qkRopeHeadDim: 8 };

export const rowCases: GpuCase[] = [
  rmsNormCase(1, 7),
  rmsNormCase(3, 256),
  rmsNormCase(5, 64, 96),
  rmsNormCase(2, 7168),
  ropeCase(1, 1, 0, plainConfig, 16),
  ropeCase(3, 4, 64, yarnConfig, 512),
  ropeCase(5, 1, 64, yarnConfig, 300),
  swigluCase(1, 7),
  swigluCase(3, 128),
  swigluCase(16, 512),
  embeddingCase(1, 10, 4),
  embeddingCase(7, 512, 256),
  matmulCase('router', 1, 16, 256),
  matmulCase('router', 13, 256, 64),
  matmulCase('lm-head', 1, 512, 256),
  matmulCase('lm-head', 5, 1003, 96),
  matmulCase('lm-head', 4, 4096, 1024, true),
];
