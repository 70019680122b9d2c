// DeepSeekMoE, reference form: a router picks top-k routed experts per token, their SwiGLU outputs are
// summed with the router weights, and the shared experts (one MLP of width n_shared·moe_inter) are added.
//
// Router (topk_method noaux_tc, scoring sigmoid): scores = sigmoid(W_g·x); e_score_correction_bias is
// added for *selection only*; experts are split into n_group groups, each scored by the sum of its top-2
// biased scores, and only the best topk_group groups stay eligible; the top-k eligible experts by biased
// score are chosen, but weighted by their *unbiased* scores, normalized to sum 1 when norm_topk_prob,
// then × routed_scaling_factor. Ties go to the lower index (torch.topk leaves them unspecified).
import type { DeepSeekConfig } from './config';
import { linear, type Linear, type LinearScratch } from './linear';
import { matvec, sigmoid, softmax, swiglu, type Vec } from './ops';

export interface GateOptions {
  scoringFunc: 'sigmoid' | 'softmax';
  /** noaux_tc: groups scored by top-2 biased scores; group_limited_greedy: by max score; greedy: no groups. */
  topkMethod: 'noaux_tc' | 'greedy' | 'group_limited_greedy';
  nGroup: number;
  topkGroup: number;
  topK: number;
  normTopkProb: boolean;
  routedScalingFactor: number;
}

export function gateOptions(c: DeepSeekConfig): GateOptions {
  return {
    scoringFunc: c.scoringFunc,
    topkMethod: c.topkMethod,
    nGroup: c.nGroup,
    topkGroup: c.topkGroup,
    topK: c.numExpertsPerTok,
    normTopkProb: c.normTopkProb,
    routedScalingFactor: c.routedScalingFactor,
  };
}

/** Writes the indices of the k largest of x[0..n) into out, largest first; lower index wins ties. */
function topK(x: Float64Array, n: number, k: number, out: Int32Array, taken: Uint8Array): void {
  taken.fill(0, 0, n);
  for (let j = 0; j < k; j++) {
    let best = -1;
    for (let i = 0; i < n; i++) if (!taken[i] && (best < 0 || x[i] > x[best])) best = i;
    taken[best] = 1;
    out[j] = best;
  }
}

export interface GateScratch {
  scores: Float64Array; // [E] unbiased
  choice: Float64Array; // [E] biased, -Infinity outside kept groups
  group: Float64Array; // [nGroup]
  keep: Int32Array; // [topkGroup]
  taken: Uint8Array; // [E]
}

export function createGateScratch(nExperts: number, nGroup: number): GateScratch {
  return {
    scores: new Float64Array(nExperts),
    choice: new Float64Array(nExperts),
    group: new Float64Array(nGroup),
    keep: new Int32Array(nGroup),
    taken: new Uint8Array(Math.max(nExperts, nGroup)),
  };
}

/** Routes one token: logits[E] = W_g·x, bias[E] or null → outIdx[topK], outWeight[topK]. */
export function moeRoute(
  logits: Vec,
  bias: Vec | null,
  o: GateOptions,
  outIdx: Int32Array,
  outWeight: Float64Array,
  s: GateScratch,
): void {
  const E = logits.length;
  for (let i = 0; i < E; i++)
    s.scores[i] = o.scoringFunc === 'sigmoid' ? sigmoid(logits[i]) : logits[i];
  if (o.scoringFunc === 'softmax') softmax(s.scores, E);
  for (let i = 0; i < E; i++) s.choice[i] = s.scores[i] + (bias ? bias[i] : 0);

  if (o.topkMethod !== 'greedy' && o.nGroup > 1) {
    const per = E / o.nGroup;
    for (let g = 0; g < o.nGroup; g++) {
      let first = -Infinity,
        second = -Infinity;
      for (let i = g * per; i < (g + 1) * per; i++) {
        const v = s.choice[i];
        if (v > first) [first, second] = [v, first];
        else if (v > second) second = v;
      }
      s.group[g] = o.topkMethod === 'noaux_tc' ? first + second : first;
    }
    topK(s.group, o.nGroup, o.topkGroup, s.keep, s.taken); // leaves taken[g] = 1 for the kept groups
    for (let g = 0; g < o.nGroup; g++)
      if (!s.taken[g]) s.choice.fill(-Infinity, g * per, (g + 1) * per);
  }

  topK(s.choice, E, o.topK, outIdx, s.taken);
  let sum = 0;
  for (let j = 0; j < o.topK; j++) sum += outWeight[j] = s.scores[outIdx[j]];
  const norm = o.normTopkProb && o.topK > 1 ? 1 / (sum + 1e-20) : 1;
  for (let j = 0; j < o.topK; j++) outWeight[j] *= norm * o.routedScalingFactor;
}

/** gate_proj, up_proj, down_proj of a SwiGLU MLP (dense layer, routed or shared expert). */
export interface MlpWeights {
  gate: Linear;
  up: Linear;
  down: Linear;
}

export interface MoeWeights {
  router: Float32Array; // [E, hidden] (mlp.gate.weight)
  bias: Float32Array | null; // [E] (mlp.gate.e_score_correction_bias)
  experts: MlpWeights[];
  shared: MlpWeights | null;
}

export interface MoeScratch {
  h1: Float64Array; // [max inter]
  h3: Float64Array; // [max inter]
  y: Float64Array; // [hidden]
  logits: Float64Array; // [E]
  idx: Int32Array; // [topK]
  weight: Float64Array; // [topK]
  gate: GateScratch;
  lin: LinearScratch;
}

/** out[hidden] = down(silu(gate·x) ⊙ up·x) */
export function mlpForward(out: Vec, x: Vec, w: MlpWeights, s: MoeScratch): void {
  linear(s.h1, w.gate, x, s.lin);
  linear(s.h3, w.up, x, s.lin);
  swiglu(s.h1, s.h3, w.gate.rows);
  linear(out, w.down, s.h1, s.lin);
}

/** out[hidden] = Σ_k weight_k · expert_k(x) + shared(x), for one token. */
export function moeForward(
  out: Vec,
  x: Vec,
  w: MoeWeights,
  o: GateOptions,
  hidden: number,
  s: MoeScratch,
): void {
  matvec(s.logits, w.router, x, w.experts.length, hidden);
  moeRoute(s.logits, w.bias, o, s.idx, s.weight, s.gate);
  out.fill(0, 0, hidden);
  for (let j = 0; j < o.topK; j++) {
    mlpForward(s.y, x, w.experts[s.idx[j]], s);
    for (let i = 0; i < hidden; i++) out[i] += s.weight[j] * s.y[i];
  }
  if (w.shared) {
    mlpForward(s.y, x, w.shared, s);
    for (let i = 0; i < hidden; i++) out[i] += s.y[i];
  }
}
