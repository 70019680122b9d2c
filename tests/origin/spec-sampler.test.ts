// The speculative sampling rule (engine/sampling/spec-sampler.ts) keeps the model's distribution: over
// many seeded trials on a 10-token vocabulary, tokens emitted after a draft from q and the rejection rule
// follow p (chi-square and total variation), p is what the plain TokenSampler draws from under the same
// options (bias, penalties, temperature, top_k, top_p), truncated tokens never appear, drafts are accepted
// at the rate Σ min(p, q), and greedy with extras accepts iff the draft is the argmax.
import { describe, expect, it } from 'vitest';
import type { SamplingOptions } from '../../engine/sampling/options';
import { TokenSampler } from '../../engine/sampling/token-sampler';
import { softmaxF32Js } from '../../engine/sampling/sampler';
import { SpecSampler } from '../../engine/sampling/spec-sampler';

const V = 10;
const TRIALS = 20_000;
const pLogits = Float32Array.from([1.2, 0.3, -0.5, 2.0, 0.9, -1.5, 0.1, 1.6, -0.2, 0.4]);
const qLogits = Float32Array.from([0.1, 1.5, 0.2, 0.5, 2.2, 0.3, -0.4, 0.2, 1.1, -1.0]);
const options: SamplingOptions = {
  temperature: 0.9,
  topP: 0.9,
  topK: 7,
  logitBias: { 2: 1.5 },
  presencePenalty: 0.4,
  frequencyPenalty: 0.3,
};
const history = [3, 3, 7]; // emitted before: the penalties lower 3 and 7

/** Logits that make `id` certain, to emit a history through the samplers' own counting. */
const forcing = (id: number) => Float32Array.from({ length: V }, (_, i) => (i === id ? 1e4 : 0));

function fresh(seed: number): SpecSampler {
  const s = new SpecSampler(V, options, seed);
  for (const id of history) s.sample(forcing(id));
  return s;
}

/** Pearson's chi-square of counts against probabilities, over tokens with p > 0; and the TV distance. */
function fit(counts: number[], p: Float64Array): { chi2: number; df: number; tv: number } {
  let chi2 = 0,
    df = -1,
    tv = 0;
  for (let i = 0; i < V; i++) {
    tv += Math.abs(counts[i] / TRIALS - p[i]) / 2;
    if (p[i] === 0) continue;
    const e = p[i] * TRIALS;
    chi2 += (counts[i] - e) ** 2 / e;
    df++;
  }
  return { chi2, df, tv };
}

// Chi-square 0.999 quantiles by degrees of freedom (a correct sampler fails 1 in 1000 seeds; these are fixed).
const CHI2_999 = [0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32, 26.12, 27.88];

describe('speculative sampling keeps the distribution', () => {
  const p = new Float64Array(V),
    q = new Float64Array(V);
  fresh(0).distribution(pLogits, p);
  fresh(0).distribution(qLogits, q);

  it('p is what TokenSampler draws from under the same options and history', () => {
    const counts = Array<number>(V).fill(0);
    for (let t = 0; t < TRIALS; t++) {
      const s = new TokenSampler(V, { ...options, seed: t + 1 });
      for (const id of history) s.sample(forcing(id));
      counts[s.sample(pLogits)]++;
    }
    const { chi2, df, tv } = fit(counts, p);
    expect(counts.filter((c, i) => c > 0 && p[i] === 0)).toEqual([]); // truncated: never drawn
    expect(df).toBeGreaterThanOrEqual(3);
    expect(chi2).toBeLessThan(CHI2_999[df]);
    expect(tv).toBeLessThan(0.02);
  });

  it('a draft from q checked by the rejection rule emits tokens distributed as p', () => {
    const counts = Array<number>(V).fill(0);
    let accepted = 0;
    for (let t = 0; t < TRIALS; t++) {
      const s = fresh(t + 1);
      const draft = s.draft(qLogits);
      expect(q[draft]).toBeGreaterThan(0);
      const v = s.verify(pLogits, draft);
      counts[v.id]++;
      if (v.accepted) accepted++;
    }
    const { chi2, df, tv } = fit(counts, p);
    expect(counts.filter((c, i) => c > 0 && p[i] === 0)).toEqual([]);
    expect(chi2).toBeLessThan(CHI2_999[df]);
    expect(tv).toBeLessThan(0.02);
    let overlap = 0;
    for (let i = 0; i < V; i++) overlap += Math.min(p[i], q[i]);
    const sd = Math.sqrt((overlap * (1 - overlap)) / TRIALS);
    expect(Math.abs(accepted / TRIALS - overlap)).toBeLessThan(4 * sd);
    expect(overlap).toBeGreaterThan(0.1); // p and q differ but overlap: both branches ran
    expect(overlap).toBeLessThan(0.9);
  });

  it('greedy with a logit bias: the draft is kept iff it is the biased argmax', () => {
    const greedy = new SpecSampler(V, { temperature: 0, topP: 1, logitBias: { 5: 4 } }, 1);
    // argmax of pLogits + bias: token 5 (-1.5 + 4); of qLogits + bias: 5 too (0.3 + 4)
    expect(greedy.draft(qLogits)).toBe(5);
    expect(greedy.verify(pLogits, 5)).toEqual({ id: 5, accepted: true });
    greedy.draft(pLogits);
    expect(greedy.verify(pLogits, 4)).toEqual({ id: 5, accepted: false });
  });
});

describe('SpecSampler.distribution without truncation', () => {
  /** The general path's arithmetic: softmax of logits / T, then every id with p > 0, summed in id order. */
  function reference(logits: Float32Array, temperature: number, bias: Record<number, number>) {
    const w = Float32Array.from(logits);
    for (const [id, b] of Object.entries(bias)) w[+id] += b;
    const t = Math.fround(temperature);
    for (let i = 0; i < w.length; i++) w[i] = w[i] / t;
    softmaxF32Js(w);
    const out = new Float64Array(w.length);
    const ids: number[] = [];
    for (let i = 0; i < w.length; i++) if (w[i] > 0) ids.push(i);
    let mass = 0;
    for (const i of ids) mass += w[i];
    for (const i of ids) out[i] = w[i] / mass;
    return out;
  }

  it('gives the same probabilities, bit for bit, on random logits (ids past exp underflow included)', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 48271) % 0x7fffffff) / 0x7fffffff) * 2 - 1;
    for (const [n, spread, temperature] of [
      [20_755, 8, 0.8],
      [129_280, 30, 1],
      [500, 200, 0.3], // most ids underflow to p = 0
    ]) {
      const logits = Float32Array.from({ length: n }, () => rand() * spread);
      const bias = { 3: 2.5, [n - 1]: -1 };
      const s = new SpecSampler(n, { temperature, topP: 1, logitBias: bias }, 1);
      const out = new Float64Array(n);
      s.distribution(logits, out);
      const want = reference(logits, temperature, bias);
      expect(Buffer.compare(Buffer.from(out.buffer), Buffer.from(want.buffer))).toBe(0);
      expect(out.some((p) => p === 0)).toBe(spread === 200);
    }
  });
});
