// Row-wise WGSL rows of the one table (tests/ops/table.ts): RMSNorm, RoPE with YaRN, SwiGLU, embedding
// lookup and the f32 linear layer (router, LM head), each against its engine/deepseek float64 twin.
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
import { opCase, prng, type Case, type OpSpec } from '../../ops/case';
import { readF32, upload } from '../gpu';
import { nonZero } from './inputs';

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

const yarnConfig = parseDeepSeekConfig(deepSeekConfigToJson(SYNTHETIC_DEEPSEEK_CONFIG));
const plainConfig: DeepSeekConfig = { ...yarnConfig, ropeScaling: null, qkRopeHeadDim: 8 };

interface RmsShape {
  rows: number;
  n: number;
  inStride: number;
}

const rmsNormSpec: OpSpec<never, RmsShape, { x: Float32Array; w: Float32Array }> = {
  setup: (s) => ({
    x: nonZero(31 + s.n, s.rows * s.inStride, 0.01, 3),
    w: nonZero(32, s.n, 0.5, 1.5),
  }),
  checks(h, s) {
    const ref = new Float64Array(s.rows * s.n);
    for (let t = 0; t < s.rows; t++)
      refRmsNorm(
        ref.subarray(t * s.n, (t + 1) * s.n),
        h.x.subarray(t * s.inStride, t * s.inStride + s.n),
        h.w,
        s.n,
        1e-6,
      );
    return [{ output: 'out', label: 'vs float64 rmsNorm', want: ref }];
  },
  cost: (s) => ({ flops: 4 * s.rows * s.n, bytes: 12 * s.rows * s.n }),
  async gpu(gpu, h, { rows, n, inStride }) {
    const out = storageBuffer(gpu, 4 * rows * n, 'out');
    const op = await rmsNorm(
      gpu,
      { x: upload(gpu, h.x), weight: upload(gpu, h.w), out },
      { n, eps: 1e-6, maxRows: rows, inStride },
    );
    return {
      encode: (pass) => op(pass, rows),
      read: async () => ({ out: await readF32(gpu, out, rows * n) }),
    };
  },
};

interface RopeShape {
  rows: number;
  heads: number;
  nope: number;
  dim: number;
  maxPos: number;
  scaling: 'yarn' | 'plain';
}

const ropeConfig = (s: RopeShape) => (s.scaling === 'yarn' ? yarnConfig : plainConfig);

const ropeSpec: OpSpec<never, RopeShape, { x: Float32Array; info: Uint32Array }> = {
  setup: (s) => ({
    x: nonZero(41 + s.heads, s.rows * s.heads * (s.nope + s.dim), 0.1, 2),
    info: rowInfo(42, s.rows, 1, s.maxPos),
  }),
  checks(h, s) {
    const config = ropeConfig(s),
      headStride = s.nope + s.dim,
      rowStride = s.heads * headStride;
    const ref = Float64Array.from(h.x),
      inv = ropeInvFreq(s.dim, config.ropeTheta, config.ropeScaling);
    const cos = new Float64Array(s.dim / 2),
      sin = new Float64Array(s.dim / 2);
    for (let t = 0; t < s.rows; t++) {
      ropeAngles(h.info[t * 4 + 1], inv, ropeAttentionFactor(config.ropeScaling), cos, sin);
      for (let hd = 0; hd < s.heads; hd++)
        applyRope(ref, t * rowStride + hd * headStride + s.nope, s.dim, cos, sin);
    }
    return [{ output: 'x', label: 'vs float64 applyRope', want: ref }];
  },
  cost: (s) => ({ flops: 6 * s.rows * s.heads * s.dim, bytes: 8 * s.rows * s.heads * s.dim }),
  async gpu(gpu, h, s) {
    const headStride = s.nope + s.dim,
      rowStride = s.heads * headStride;
    const xb = upload(gpu, h.x);
    const op = await rope(
      gpu,
      { x: xb, table: uploadRopeTable(gpu, ropeConfig(s), s.maxPos), rowInfo: upload(gpu, h.info) },
      {
        heads: s.heads,
        rowStride,
        headStride,
        offset: s.nope,
        dim: s.dim,
        maxPos: s.maxPos,
        maxRows: s.rows,
      },
    );
    return {
      encode: (pass) => op(pass, s.rows),
      read: async () => ({ x: await readF32(gpu, xb, s.rows * rowStride) }),
    };
  },
};

const swigluSpec: OpSpec<never, { rows: number; n: number }, { g: Float32Array; u: Float32Array }> =
  {
    setup: (s) => ({ g: nonZero(51, s.rows * s.n, 0.01, 8), u: nonZero(52, s.rows * s.n) }),
    checks(h, s) {
      const ref = Float64Array.from(h.g);
      refSwiglu(ref, h.u, s.rows * s.n);
      return [{ output: 'gate', label: 'vs float64 swiglu', want: ref }];
    },
    cost: (s) => ({ flops: 5 * s.rows * s.n, bytes: 12 * s.rows * s.n }),
    async gpu(gpu, h, { rows, n }) {
      const gb = upload(gpu, h.g);
      const op = await swiglu(gpu, { gate: gb, up: upload(gpu, h.u) }, { n, maxRows: rows });
      return {
        encode: (pass) => op(pass, rows),
        read: async () => ({ gate: await readF32(gpu, gb, rows * n) }),
      };
    },
  };

interface EmbeddingShape {
  rows: number;
  vocab: number;
  hidden: number;
}

const embeddingSpec: OpSpec<never, EmbeddingShape, { table: Float32Array; info: Uint32Array }> = {
  setup: (s) => ({ table: nonZero(61, s.vocab * s.hidden), info: rowInfo(62, s.rows, s.vocab, 1) }),
  checks(h, { rows, hidden }) {
    const ref = new Float32Array(rows * hidden);
    for (let t = 0; t < rows; t++)
      ref.set(h.table.subarray(h.info[t * 4] * hidden, (h.info[t * 4] + 1) * hidden), t * hidden);
    return [{ output: 'out', label: 'vs the table rows', want: ref }];
  },
  cost: (s) => ({ flops: 0, bytes: 8 * s.rows * s.hidden }),
  async gpu(gpu, h, { rows, vocab, hidden }) {
    const out = storageBuffer(gpu, 4 * rows * hidden, 'out');
    const op = await embedding(
      gpu,
      { table: upload(gpu, h.table), rowInfo: upload(gpu, h.info), out },
      { vocab, hidden, maxRows: rows },
    );
    return {
      encode: (pass) => op(pass, rows),
      read: async () => ({ out: await readF32(gpu, out, rows * hidden) }),
    };
  },
};

/** The f32 linear layer (router, LM head): out [rows, n] = x [rows, k] · wᵀ, w [n, k]. */
const matmulSpec: OpSpec<
  never,
  { rows: number; n: number; k: number },
  { w: Float32Array; x: Float32Array }
> = {
  setup: (s) => ({ w: nonZero(71 + s.n, s.n * s.k, 0.01, 0.1), x: nonZero(72, s.rows * s.k) }),
  checks(h, { rows, n, k }) {
    const ref = new Float64Array(rows * n);
    for (let t = 0; t < rows; t++)
      matvec(ref.subarray(t * n, (t + 1) * n), h.w, h.x.subarray(t * k, (t + 1) * k), n, k);
    return [{ output: 'out', label: 'vs float64 matvec', want: ref }];
  },
  cost: ({ rows, n, k }) => ({ flops: 2 * rows * n * k, bytes: 4 * (n * k + rows * (n + k)) }),
  async gpu(gpu, h, { rows, n, k }) {
    const out = storageBuffer(gpu, 4 * rows * n, 'out');
    const op = await matmulF32(
      gpu,
      { w: upload(gpu, h.w, 'w'), x: upload(gpu, h.x), out },
      { n, k, maxRows: rows },
    );
    return {
      encode: (pass) => op(pass, rows),
      read: async () => ({ out: await readF32(gpu, out, rows * n) }),
    };
  },
};

const rms = (rows: number, n: number, inStride = n) =>
  opCase('rmsnorm-rows', rmsNormSpec, { rows, n, inStride }, F32);
const ropeRows = (
  rows: number,
  heads: number,
  nope: number,
  scaling: 'yarn' | 'plain',
  maxPos: number,
) =>
  opCase(
    'rope-table',
    ropeSpec,
    {
      rows,
      heads,
      nope,
      dim: (scaling === 'yarn' ? yarnConfig : plainConfig).qkRopeHeadDim,
      maxPos,
      scaling,
    },
    F32,
  );
const swi = (rows: number, n: number) => opCase('swiglu-rows', swigluSpec, { rows, n }, F32);
const emb = (rows: number, vocab: number, hidden: number) =>
  opCase('embedding', embeddingSpec, { rows, vocab, hidden }, 0);
// The router and the LM head are one f32 linear kernel: one spec, the shapes of each use.
const lin = (op: 'router' | 'lm-head', rows: number, n: number, k: number, bench = false) =>
  opCase(op, matmulSpec, { rows, n, k }, F32, { bench });

export const rowCases: Case[] = [
  rms(1, 7),
  rms(3, 256),
  rms(5, 64, 96),
  rms(2, 7168),
  ropeRows(1, 1, 0, 'plain', 16),
  ropeRows(3, 4, 64, 'yarn', 512),
  ropeRows(5, 1, 64, 'yarn', 300),
  swi(1, 7),
  swi(3, 128),
  swi(16, 512),
  emb(1, 10, 4),
  emb(7, 512, 256),
  lin('router', 1, 16, 256),
  lin('router', 13, 256, 64),
  lin('lm-head', 1, 512, 256),
  lin('lm-head', 5, 1003, 96),
  lin('lm-head', 4, 4096, 1024, true),
];
