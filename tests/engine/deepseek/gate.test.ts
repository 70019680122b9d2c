import { describe, expect, it } from 'vitest';
import type { Linear } from '../../../engine/deepseek/linear';
import { createLinearScratch } from '../../../engine/deepseek/linear';
import {
  createGateScratch,
  moeForward,
  moeRoute,
  type GateOptions,
  type MlpWeights,
  type MoeScratch,
} from '../../../engine/deepseek/moe';
import { silu } from '../../../engine/deepseek/ops';

const logit = (p: number) => Math.log(p / (1 - p)); // sigmoid(logit(p)) = p

function route(scores: number[], bias: number[] | null, o: Partial<GateOptions>) {
  const opts: GateOptions = {
    scoringFunc: 'sigmoid',
    topkMethod: 'noaux_tc',
    nGroup: 1,
    topkGroup: 1,
    topK: 2,
    normTopkProb: true,
    routedScalingFactor: 1,
    ...o,
  };
  const idx = new Int32Array(opts.topK),
    w = new Float64Array(opts.topK);
  moeRoute(
    Float64Array.from(scores, logit),
    bias && Float64Array.from(bias),
    opts,
    idx,
    w,
    createGateScratch(scores.length, opts.nGroup),
  );
  return { idx: [...idx], w: [...w] };
}

describe('DeepSeek-V3 router', () => {
  it('keeps the topk_group groups with the best top-2 sums, even if that drops the best expert', () => {
    // groups of 2: g0 {0.95, 0.05} = 1.00, g1 {0.6, 0.6} = 1.20, g2 {0.55, 0.55} = 1.10, g3 {0.1, 0.1} = 0.20
    const r = route([0.95, 0.05, 0.6, 0.6, 0.55, 0.55, 0.1, 0.1], null, {
      nGroup: 4,
      topkGroup: 2,
      topK: 3,
      routedScalingFactor: 2.5,
    });
    expect(r.idx).toEqual([2, 3, 4]); // expert 0 (0.95) is out: its group lost
    const sum = 0.6 + 0.6 + 0.55;
    r.w.forEach((w, i) => expect(w).toBeCloseTo(([0.6, 0.6, 0.55][i] / sum) * 2.5, 12));
  });

  it('uses e_score_correction_bias to choose experts but not to weight them', () => {
    const r = route([0.9, 0.8, 0.3, 0.2], [0, 0, 0.7, 0], { topK: 2 });
    expect(r.idx).toEqual([2, 0]); // biased scores 1.0, 0.9, 0.8, 0.2
    expect(r.w[0]).toBeCloseTo(0.3 / 1.2, 12);
    expect(r.w[1]).toBeCloseTo(0.9 / 1.2, 12);
  });

  it('lets the bias move group selection too', () => {
    // unbiased, g0 {0.9, 0.8} = 1.7 would win; the bias lifts g1 {0.5, 0.5} to 2.0
    const r = route([0.9, 0.8, 0.5, 0.5], [0, 0, 0.5, 0.5], { nGroup: 2, topkGroup: 1, topK: 2 });
    expect(r.idx).toEqual([2, 3]);
    expect(r.w).toEqual([0.5, 0.5]);
  });

  it('skips normalization when norm_topk_prob is false, still scaling', () => {
    const r = route([0.9, 0.8, 0.3, 0.2], null, {
      topK: 2,
      normTopkProb: false,
      routedScalingFactor: 2,
    });
    expect(r.idx).toEqual([0, 1]);
    expect(r.w[0]).toBeCloseTo(1.8, 12);
    expect(r.w[1]).toBeCloseTo(1.6, 12);
  });

  it('breaks ties toward the lower index', () => {
    expect(route([0.5, 0.7, 0.7, 0.7], null, { topK: 2 }).idx).toEqual([1, 2]);
  });
});

describe('MoE forward', () => {
  it('sums routed experts by their weights and adds the shared expert', () => {
    // hidden 2, inter 1: expert e is gate=[a,0], up=[0,1], down=[[1],[0]] → out = (silu(a·x0)·x1, 0)
    const lin = (rows: number, cols: number, w: number[]): Linear => ({
      kind: 'f32',
      rows,
      cols,
      w: Float32Array.from(w),
    });
    const expert = (a: number): MlpWeights => ({
      gate: lin(1, 2, [a, 0]),
      up: lin(1, 2, [0, 1]),
      down: lin(2, 1, [1, 0]),
    });
    const shared: MlpWeights = {
      gate: lin(1, 2, [1, 1]),
      up: lin(1, 2, [1, 0]),
      down: lin(2, 1, [0, 1]),
    };
    const router = Float32Array.from([2, 0, 0, 0, -2, 0, 1, 0]); // logits: 2·x0, 0, -2·x0, x0
    const x = Float64Array.from([0.5, 3]);
    const s: MoeScratch = {
      h1: new Float64Array(1),
      h3: new Float64Array(1),
      y: new Float64Array(2),
      logits: new Float64Array(4),
      idx: new Int32Array(2),
      weight: new Float64Array(2),
      gate: createGateScratch(4, 1),
      lin: createLinearScratch(2, 2),
    };
    const out = new Float64Array(2);
    const o: GateOptions = {
      scoringFunc: 'sigmoid',
      topkMethod: 'noaux_tc',
      nGroup: 1,
      topkGroup: 1,
      topK: 2,
      normTopkProb: true,
      routedScalingFactor: 2,
    };
    moeForward(
      out,
      x,
      { router, bias: null, experts: [expert(1), expert(2), expert(3), expert(4)], shared },
      o,
      2,
      s,
    );
    const sg = (v: number) => 1 / (1 + Math.exp(-v));
    const [p0, p3] = [sg(1), sg(0.5)]; // experts 0 and 3 win
    const routed = ((p0 * silu(0.5) * 3 + p3 * silu(2) * 3) / (p0 + p3)) * 2;
    expect(out[0]).toBeCloseTo(routed, 12);
    expect(out[1]).toBeCloseTo(silu(3.5) * 0.5, 12);
  });
});
