// How each DeepSeek op is exercised on the WASM kernels, against engine/deepseek/'s float64 references:
// MLA absorbed attention, the router, a whole MoE layer through the dispatch (plan, gather, batched expert
// MLPs on FP8 weights, scatter-add, shared expert), and rope from a table. The op set is a DeepSeekKit,
// so a case can run the SIMD kernels or every op's scalar twin. Specs of the one table (case.ts).
import { dequantizeWeightFp8, quantizeWeightFp8 } from '../../engine/formats/fp8';
import { createLinearScratch, type Linear } from '../../engine/deepseek/linear';
import { mlaAbsorbedAttention, type MlaDims } from '../../engine/deepseek/mla';
import {
  createGateScratch,
  moeForward,
  moeRoute,
  type GateOptions,
  type MlpWeights,
  type MoeWeights,
} from '../../engine/deepseek/moe';
import { applyRope } from '../../engine/deepseek/rope';
import {
  deepSeekKit,
  i32View,
  placeBytes,
  placeF32,
  type DeepSeekKit,
  type WasmLinear,
} from '../../engine/deepseek/wasm-linear';
import { createMoeBuffers, wasmMoeForward } from '../../engine/deepseek/wasm-moe';
import type { WasmMlp, WasmMoeWeights } from '../../engine/deepseek/wasm-weights';
import { uniform, type Family, type OpSpec } from './case';

export const deepSeekFamily: Family<DeepSeekKit> = {
  name: 'deepseek',
  of: (b) =>
    b.quant && b.deepseek && b.bytes
      ? { main: deepSeekKit(b, 'simd'), scalar: deepSeekKit(b, 'scalar') }
      : undefined,
};

/** f32 sums and softmax vs float64, measured ≤ 1e-12 on these sizes. */
export const DS_NMSE = 1e-10;

export type MlaShape = MlaDims & { nPos: number };

interface MlaHost {
  qNope: Float32Array;
  qPe: Float32Array;
  kvB: Float32Array;
  kv: Float32Array;
  pe: Float32Array;
}

export const mlaSpec: OpSpec<DeepSeekKit, MlaShape, MlaHost> = {
  family: deepSeekFamily,
  setup: (s, rand) => ({
    qNope: uniform(rand, s.heads * s.nope),
    qPe: uniform(rand, s.heads * s.rope),
    kvB: uniform(rand, s.heads * (s.nope + s.v) * s.latent, -0.3, 0.3),
    kv: uniform(rand, s.nPos * s.latent, -2, 2),
    pe: uniform(rand, s.nPos * s.rope, -2, 2),
  }),
  checks(h, s) {
    const want = new Float64Array(s.heads * s.v);
    const scratch = {
      qLat: new Float64Array(s.latent),
      oLat: new Float64Array(s.latent),
      att: new Float64Array(s.nPos),
    };
    mlaAbsorbedAttention(
      want,
      h.qNope,
      h.qPe,
      h.kvB,
      h.kv,
      h.pe,
      s.nPos,
      s,
      1 / Math.sqrt(s.nope + s.rope),
      scratch,
    );
    return [{ output: 'out', label: 'vs float64 mlaAbsorbedAttention', want, nmse: DS_NMSE }];
  },
  place(b, h, s) {
    const ptrs = {
      qNope: placeF32(b, h.qNope),
      qPe: placeF32(b, h.qPe),
      kvB: placeF32(b, h.kvB),
      kv: placeF32(b, h.kv),
      pe: placeF32(b, h.pe),
      scratch: b.alloc(2 * s.heads * s.latent + s.heads * s.nPos),
      out: b.alloc(s.heads * s.v),
    };
    return { ptrs, outputs: { out: s.heads * s.v }, reset() {} };
  },
  invoke: (o, p, s) =>
    o.ds.mlaAttention(
      p.out,
      p.qNope,
      p.qPe,
      p.kvB,
      p.kv,
      p.pe,
      p.scratch,
      s.heads,
      s.nope,
      s.rope,
      s.v,
      s.latent,
      s.nPos,
      1 / Math.sqrt(s.nope + s.rope),
    ),
  cost: (s) => ({
    flops: 2 * s.heads * (s.nope * s.latent + s.nPos * (2 * s.latent + s.rope) + s.v * s.latent),
    bytes: 4 * (s.nPos * (s.latent + s.rope) + s.heads * (s.nope + s.v) * s.latent),
  }),
};

export interface RouteShape {
  experts: number;
  topK: number;
  nGroup: number;
  topkGroup: number;
  method: GateOptions['topkMethod'];
  scoring: GateOptions['scoringFunc'];
  tokens: number;
}

const METHOD = { greedy: 0, group_limited_greedy: 1, noaux_tc: 2 } as const;

function gate(s: RouteShape): GateOptions {
  return {
    scoringFunc: s.scoring,
    topkMethod: s.method,
    nGroup: s.nGroup,
    topkGroup: s.topkGroup,
    topK: s.topK,
    normTopkProb: true,
    routedScalingFactor: 2.5,
  };
}

/** Routing weights as a dense [tokens, experts] matrix: a wrong expert shows up as an O(1) error. */
export const routeSpec: OpSpec<
  DeepSeekKit,
  RouteShape,
  { logits: Float32Array; bias: Float32Array }
> = {
  family: deepSeekFamily,
  setup: (s, rand) => ({
    logits: uniform(rand, s.tokens * s.experts, -4, 4),
    bias: uniform(rand, s.experts, -0.05, 0.05),
  }),
  checks(h, s) {
    const want = new Float64Array(s.tokens * s.experts),
      o = gate(s);
    const idx = new Int32Array(s.topK),
      w = new Float64Array(s.topK),
      scratch = createGateScratch(s.experts, s.nGroup);
    for (let t = 0; t < s.tokens; t++) {
      moeRoute(h.logits.subarray(t * s.experts, (t + 1) * s.experts), h.bias, o, idx, w, scratch);
      idx.forEach((e, j) => (want[t * s.experts + e] = w[j]));
    }
    return [{ output: 'dense', label: 'vs float64 moeRoute', want, nmse: DS_NMSE }];
  },
  place(b, h, s) {
    const ptrs = {
      logits: placeF32(b, h.logits),
      bias: placeF32(b, h.bias),
      idx: b.alloc(s.tokens * s.topK),
      weight: b.alloc(s.tokens * s.topK),
      scratch: b.alloc(2 * s.experts + 2 * s.nGroup + s.experts),
    };
    const read = () => {
      const dense = new Float32Array(s.tokens * s.experts),
        n = s.tokens * s.topK;
      const idx = i32View(b, ptrs.idx, n),
        w = b.f32(ptrs.weight, n);
      for (let e = 0; e < n; e++) dense[Math.floor(e / s.topK) * s.experts + idx[e]] = w[e];
      return { dense };
    };
    return { ptrs, outputs: {}, reset() {}, read };
  },
  invoke(o, p, s) {
    for (let t = 0; t < s.tokens; t++) {
      o.ds.moeRoute(
        p.idx + 4 * t * s.topK,
        p.weight + 4 * t * s.topK,
        p.logits + 4 * t * s.experts,
        p.bias,
        p.scratch,
        s.experts,
        s.topK,
        s.nGroup,
        s.topkGroup,
        METHOD[s.method],
        s.scoring === 'sigmoid',
        true,
        2.5,
      );
    }
  },
  cost: (s) => ({ flops: s.tokens * s.experts * (s.experts + 4), bytes: 4 * s.tokens * s.experts }),
};

export interface MoeShape {
  hidden: number;
  inter: number;
  experts: number;
  topK: number;
  nGroup: number;
  topkGroup: number;
  shared: boolean;
  tokens: number;
  /** FP8 block edge (DeepSeek: 128). */
  block: number;
}

interface MoeHost {
  router: Float32Array;
  bias: Float32Array;
  /** Per MLP (experts, then shared): gate, up, down as FP8. */
  mlps: { q: Uint8Array; scaleInv: Float32Array; rows: number; cols: number }[][];
  x: Float32Array;
}

function mlpShapes(s: MoeShape): [number, number][] {
  return [
    [s.inter, s.hidden],
    [s.inter, s.hidden],
    [s.hidden, s.inter],
  ];
}

export const moeSpec: OpSpec<DeepSeekKit, MoeShape, MoeHost> = {
  family: deepSeekFamily,
  setup(s, rand) {
    const mlps = Array.from({ length: s.experts + (s.shared ? 1 : 0) }, () =>
      mlpShapes(s).map(([rows, cols]) => {
        const w = uniform(rand, rows * cols, -1 / Math.sqrt(cols), 1 / Math.sqrt(cols));
        return { ...quantizeWeightFp8(w, rows, cols, [s.block, s.block]), rows, cols };
      }),
    );
    return {
      router: uniform(rand, s.experts * s.hidden, -0.2, 0.2),
      bias: uniform(rand, s.experts, -0.05, 0.05),
      mlps,
      x: uniform(rand, s.tokens * s.hidden, -2, 2),
    };
  },
  checks(h, s) {
    const lin = (m: MoeHost['mlps'][number][number]): Linear => ({
      kind: 'f32',
      rows: m.rows,
      cols: m.cols,
      w: dequantizeWeightFp8(m, m.rows, m.cols, [s.block, s.block]),
    });
    const mlp = (m: MoeHost['mlps'][number]): MlpWeights => ({
      gate: lin(m[0]),
      up: lin(m[1]),
      down: lin(m[2]),
    });
    const w: MoeWeights = {
      router: h.router,
      bias: h.bias,
      experts: h.mlps.slice(0, s.experts).map(mlp),
      shared: s.shared ? mlp(h.mlps[s.experts]) : null,
    };
    const o: GateOptions = { ...gate({ ...s, method: 'noaux_tc', scoring: 'sigmoid' }) };
    const scratch = {
      h1: new Float64Array(s.inter),
      h3: new Float64Array(s.inter),
      y: new Float64Array(s.hidden),
      logits: new Float64Array(s.experts),
      idx: new Int32Array(s.topK),
      weight: new Float64Array(s.topK),
      gate: createGateScratch(s.experts, s.nGroup),
      lin: createLinearScratch(s.inter, s.inter),
    };
    const want = new Float64Array(s.tokens * s.hidden);
    for (let t = 0; t < s.tokens; t++)
      moeForward(
        want.subarray(t * s.hidden, (t + 1) * s.hidden),
        h.x.subarray(t * s.hidden, (t + 1) * s.hidden),
        w,
        o,
        s.hidden,
        scratch,
      );
    return [
      { output: 'out', label: 'vs float64 moeForward (dequantized experts)', want, nmse: DS_NMSE },
    ];
  },
  place(b, h, s) {
    const lin = (m: MoeHost['mlps'][number][number]): WasmLinear => ({
      kind: 'fp8',
      rows: m.rows,
      cols: m.cols,
      w: placeBytes(b, m.q),
      scales: placeF32(b, m.scaleInv),
      block: [s.block, s.block],
    });
    const mlp = (m: MoeHost['mlps'][number]): WasmMlp => ({
      gate: lin(m[0]),
      up: lin(m[1]),
      down: lin(m[2]),
    });
    const w: WasmMoeWeights = {
      router: placeF32(b, h.router),
      bias: placeF32(b, h.bias),
      experts: h.mlps.slice(0, s.experts).map(mlp),
      shared: s.shared ? mlp(h.mlps[s.experts]) : null,
    };
    const lin4 = b.alloc(4 * Math.max(s.hidden, s.inter));
    const bufs = createMoeBuffers(
      b,
      { experts: s.experts, topK: s.topK, nGroup: s.nGroup, hidden: s.hidden, inter: s.inter },
      s.tokens,
      lin4,
    );
    const ptrs = { x: placeF32(b, h.x), out: b.alloc(s.tokens * s.hidden) };
    moeWeights.set(ptrs, { w, bufs });
    return { ptrs, outputs: { out: s.tokens * s.hidden }, reset() {} };
  },
  invoke(o, p, s) {
    const { w, bufs } = moeWeights.get(p)!;
    const heap = o.mem.f32(0, o.mem.bytesUsed / 4);
    wasmMoeForward(
      o,
      heap,
      p.out,
      p.x,
      s.tokens,
      w,
      gate({ ...s, method: 'noaux_tc', scoring: 'sigmoid' }),
      s.hidden,
      bufs,
    );
  },
  cost(s) {
    const mlp = 6 * s.hidden * s.inter;
    return {
      flops: s.tokens * (mlp * (s.topK + (s.shared ? 1 : 0)) + 2 * s.experts * s.hidden),
      bytes: (s.experts + (s.shared ? 1 : 0)) * 3 * s.hidden * s.inter,
    };
  },
};

// The MoE layer's placed weights and buffers, keyed by the placed pointers (ptrs holds numbers only).
const moeWeights = new WeakMap<
  Record<string, number>,
  { w: WasmMoeWeights; bufs: ReturnType<typeof createMoeBuffers> }
>();

export interface RopeShape {
  count: number;
  stride: number;
  dim: number;
  pos: number;
}

export const ropeSpec: OpSpec<
  DeepSeekKit,
  RopeShape,
  { x: Float32Array; cos: Float64Array; sin: Float64Array }
> = {
  family: deepSeekFamily,
  setup(s, rand) {
    const half = s.dim / 2,
      cos = new Float64Array(half),
      sin = new Float64Array(half);
    for (let i = 0; i < half; i++) {
      const a = s.pos * 10000 ** ((-2 * i) / s.dim);
      [cos[i], sin[i]] = [Math.fround(Math.cos(a)), Math.fround(Math.sin(a))];
    }
    return { x: uniform(rand, s.count * s.stride), cos, sin };
  },
  checks(h, s) {
    const want = Float64Array.from(h.x);
    for (let v = 0; v < s.count; v++) applyRope(want, v * s.stride, s.dim, h.cos, h.sin);
    return [{ output: 'x', label: 'vs float64 applyRope', want, nmse: 1e-12 }];
  },
  place(b, h, s) {
    const ptrs = {
      x: placeF32(b, h.x),
      cos: placeF32(b, Float32Array.from(h.cos)),
      sin: placeF32(b, Float32Array.from(h.sin)),
    };
    return { ptrs, outputs: { x: s.count * s.stride }, reset: () => b.write(ptrs.x, h.x) };
  },
  invoke: (o, p, s) => o.ds.ropePairs(p.x, s.count, s.stride, s.dim, p.cos, p.sin),
  cost: (s) => ({ flops: 3 * s.count * s.dim, bytes: 8 * s.count * s.dim }),
};
