// DeepSeekMoE on the WASM kernels, for n tokens at once: route every token, group the (token, slot) pairs
// by expert (moe_plan), run each chosen expert once over all its tokens as a batched SwiGLU MLP (gathered
// rows in, weighted rows scattered back), then add the shared expert run over all n tokens.
// The origin hooks each layer (setMoeHook) to count routed tokens per expert and, with --ep, to run
// the routed experts on worker threads (origin/ep/).
import type { KernelBackend } from '../../kernels-wasm/types';
import type { DeepSeekConfig } from './config';
import type { GateOptions } from './moe';
import { i32View, linearForward, type DeepSeekKit } from './wasm-linear';
import type { WasmMlp, WasmMoeWeights } from './wasm-weights';

/** Buffers of the MLP/MoE sub-layer for up to maxBatch tokens; allocated once per session. */
export interface MoeBuffers {
  logits: number; // [n, E]
  idx: number; // i32 [n, topK]
  weight: number; // [n, topK]
  route: number; // router scratch
  offsets: number; // i32 [E + 1]
  order: number; // i32 [n·topK]
  xs: number; // [n, hidden] one expert's gathered inputs
  ys: number; // [n, hidden] its outputs
  h1: number; // [n, widest inter]
  h3: number; // [n, widest inter]
  lin: number; // FP8 prefill scratch, 4 · widest cols
}

export interface MoeDims {
  experts: number;
  topK: number;
  nGroup: number;
  hidden: number;
  /** The widest MLP: dense, routed or shared expert. */
  inter: number;
}

export function moeDims(c: DeepSeekConfig): MoeDims {
  const inter = Math.max(c.intermediateSize, c.moeIntermediateSize * Math.max(1, c.nSharedExperts));
  return {
    experts: c.nRoutedExperts,
    topK: c.numExpertsPerTok,
    nGroup: c.nGroup,
    hidden: c.hiddenSize,
    inter,
  };
}

export function createMoeBuffers(
  mem: KernelBackend,
  d: MoeDims,
  maxBatch: number,
  lin: number,
): MoeBuffers {
  const m = mem,
    E = d.experts,
    K = d.topK,
    h = d.hidden,
    inter = d.inter;
  return {
    logits: m.alloc(maxBatch * E),
    idx: m.alloc(maxBatch * K),
    weight: m.alloc(maxBatch * K),
    route: m.alloc(2 * E + 2 * d.nGroup + Math.ceil(Math.max(E, d.nGroup) / 4)),
    offsets: m.alloc(E + 1),
    order: m.alloc(maxBatch * K),
    xs: m.alloc(maxBatch * h),
    ys: m.alloc(maxBatch * h),
    h1: m.alloc(maxBatch * inter),
    h3: m.alloc(maxBatch * inter),
    lin,
  };
}

const METHOD = { greedy: 0, group_limited_greedy: 1, noaux_tc: 2 } as const;

/**
 * What the origin attaches to one MoE layer (origin/ep/): `routed` sees each step's routing as row offsets
 * per expert (counts: offsets[e + 1] - offsets[e]) for the expert-load statistics; `experts`, when set,
 * runs the routed experts elsewhere (expert parallelism: worker threads) and fills out[n, hidden] itself.
 * A WeakMap keyed by the layer's weights, so the forward's signatures stay as they are.
 */
export interface MoeHook {
  routed?(offsets: Int32Array): void;
  experts?(call: RoutedExperts): void;
}

/** One step's routed-expert work, in the caller's WASM memory: x, the plan (order, offsets) and weights. */
export interface RoutedExperts {
  kit: DeepSeekKit;
  out: number;
  x: number;
  n: number;
  b: MoeBuffers;
  offsets: Int32Array;
  topK: number;
  hidden: number;
  /** Runs this layer's shared expert into b.ys (the hook overlaps it with the remote work; it stages
   * remote expert rows in b.xs, which the shared expert does not touch). */
  shared: (() => void) | null;
}

const hooks = new WeakMap<WasmMoeWeights, MoeHook>();

/** Attaches (or with null, detaches) a hook to one MoE layer's weights. */
export function setMoeHook(w: WasmMoeWeights, hook: MoeHook | null): void {
  if (hook) hooks.set(w, hook);
  else hooks.delete(w);
}

/** out[n, hidden] = down(silu(gate · x) ⊙ up · x) for x[n, hidden]. */
export function wasmMlpForward(
  kit: DeepSeekKit,
  out: number,
  x: number,
  n: number,
  w: WasmMlp,
  b: MoeBuffers,
): void {
  linearForward(kit, b.h1, w.gate, x, n, b.lin); // [n, inter]
  linearForward(kit, b.h3, w.up, x, n, b.lin); // [n, inter]
  kit.k.swiglu(b.h1, b.h3, n * w.gate.rows);
  linearForward(kit, out, w.down, b.h1, n, b.lin); // [n, hidden]
}

/** out[n, hidden] = Σ_k weight_k · expert_k(x) + shared(x) for each of the n tokens of x[n, hidden]. */
export function wasmMoeForward(
  kit: DeepSeekKit,
  heap: Float32Array,
  out: number,
  x: number,
  n: number,
  w: WasmMoeWeights,
  o: GateOptions,
  hidden: number,
  b: MoeBuffers,
): void {
  const E = w.experts.length,
    K = o.topK,
    ds = kit.ds;
  if (n === 1) kit.k.matvec(b.logits, w.router, x, E, hidden);
  else kit.k.matmul(b.logits, w.router, x, E, hidden, n); // [n, E]
  for (let t = 0; t < n; t++) {
    ds.moeRoute(
      b.idx + 4 * t * K,
      b.weight + 4 * t * K,
      b.logits + 4 * t * E,
      w.bias,
      b.route,
      E,
      K,
      o.nGroup,
      o.topkGroup,
      METHOD[o.topkMethod],
      o.scoringFunc === 'sigmoid',
      o.normTopkProb,
      o.routedScalingFactor,
    );
  }
  ds.moePlan(b.offsets, b.order, b.idx, n, K, E);
  heap.fill(0, out / 4, out / 4 + n * hidden);
  const offsets = i32View(kit.mem, b.offsets, E + 1);
  const hook = hooks.get(w);
  hook?.routed?.(offsets);
  if (hook?.experts) {
    const sh = w.shared;
    const shared = sh ? () => wasmMlpForward(kit, b.ys, x, n, sh, b) : null;
    hook.experts({ kit, out, x, n, b, offsets, topK: K, hidden, shared });
    if (shared) kit.k.add(out, b.ys, n * hidden);
    return;
  }
  for (let e = 0; e < E; e++) {
    const start = offsets[e],
      count = offsets[e + 1] - start;
    if (count === 0) continue;
    ds.moeGather(b.xs, x, b.order, start, count, K, hidden); // [count, hidden]
    wasmMlpForward(kit, b.ys, b.xs, count, w.experts[e], b); // [count, hidden]
    ds.moeScatterAdd(out, b.ys, b.order, b.weight, start, count, K, hidden);
  }
  if (w.shared) {
    wasmMlpForward(kit, b.ys, x, n, w.shared, b);
    kit.k.add(out, b.ys, n * hidden);
  }
}
