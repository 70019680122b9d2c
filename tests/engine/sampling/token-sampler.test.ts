// The full sampler: run.c's exactly when only temperature/top_p/seed are set; each extra control
// checked on logits whose answer is known; frequencies of many seeded draws against the renormalized
// distribution; log-probabilities against a float64 log-softmax.
import { describe, expect, it } from 'vitest';
import { Sampler } from '../../../engine/sampling/sampler';
import { logprobsOf, topIds } from '../../../engine/sampling/logprobs';
import { TokenSampler } from '../../../engine/sampling/token-sampler';
import type { SamplingOptions } from '../../../engine/sampling/options';

const LOGITS = Float32Array.from([2.0, 1.0, 0.5, 3.0, -1.0, 0.0, 2.5, 1.5]); // argmax 3, then 6, 0, 7, 1
const probs = (l: Float32Array, t = 1) => {
  const e = Array.from(l, (v) => Math.exp(v / t));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

function draws(opts: SamplingOptions, n: number): number[] {
  const counts = new Array(LOGITS.length).fill(0);
  for (let seed = 1; seed <= n; seed++)
    counts[new TokenSampler(LOGITS.length, { ...opts, seed }).sample(LOGITS)]++;
  return counts.map((c) => c / n);
}

describe('TokenSampler', () => {
  it('without extras is run.c sampling, token for token', () => {
    for (const opts of [
      { temperature: 1, topP: 1 },
      { temperature: 0.8, topP: 0.9 },
      { temperature: 0, topP: 1 },
    ]) {
      const a = new TokenSampler(LOGITS.length, { ...opts, seed: 42 });
      const b = new Sampler(LOGITS.length, { ...opts, seed: 42 });
      for (let i = 0; i < 50; i++) expect(a.sample(LOGITS)).toBe(b.sample(LOGITS));
    }
  });

  it('the same seed gives the same tokens with extras on', () => {
    const opts = {
      temperature: 1,
      topP: 0.95,
      topK: 5,
      minP: 0.01,
      frequencyPenalty: 0.5,
      seed: 7,
    };
    const run = () => {
      const s = new TokenSampler(8, opts);
      return Array.from({ length: 30 }, () => s.sample(LOGITS));
    };
    expect(run()).toEqual(run());
  });

  it('top_k = 1 is greedy; top_k = 2 draws only the two best, in proportion', () => {
    expect(draws({ temperature: 1, topP: 1, topK: 1 }, 200)[3]).toBe(1);
    const f = draws({ temperature: 1, topP: 1, topK: 2 }, 4000);
    const p = probs(LOGITS);
    const p3 = p[3] / (p[3] + p[6]);
    expect(f[3] + f[6]).toBe(1);
    expect(Math.abs(f[3] - p3)).toBeLessThan(0.03);
  });

  it('min_p drops tokens under min_p × the top probability', () => {
    const p = probs(LOGITS);
    const minP = 0.3; // keeps p ≥ 0.3·p[3]: tokens 3, 6, 0 (p[0]/p[3] = e^-1 ≈ 0.37), drops 7 (e^-1.5 ≈ 0.22)
    const f = draws({ temperature: 1, topP: 1, minP }, 4000);
    for (let i = 0; i < 8; i++) if (p[i] < minP * p[3]) expect(f[i]).toBe(0);
    expect(f[0]).toBeGreaterThan(0);
  });

  it('top_p keeps the smallest set reaching the mass', () => {
    const p = probs(LOGITS);
    const f = draws({ temperature: 1, topP: 0.5, topK: 4 }, 3000); // extras on: our path, not run.c's
    const top4 = [3, 6, 0, 7].map((i) => p[i]);
    const mass = top4.reduce((a, b) => a + b, 0);
    expect((top4[0] + top4[1]) / mass).toBeGreaterThan(0.5); // so only 3 and 6 survive
    expect(f[3] + f[6]).toBe(1);
  });

  it('logit_bias forces and bans tokens', () => {
    expect(
      new TokenSampler(8, { temperature: 0, topP: 1, logitBias: { 4: 100 } }).sample(LOGITS),
    ).toBe(4);
    expect(
      new TokenSampler(8, { temperature: 0, topP: 1, logitBias: { 3: -100 } }).sample(LOGITS),
    ).toBe(6);
    expect(draws({ temperature: 1.5, topP: 1, logitBias: { 3: -100, 6: -100 } }, 500)[3]).toBe(0);
  });

  it('presence and frequency penalties steer greedy decoding away from repeats', () => {
    const s = new TokenSampler(8, { temperature: 0, topP: 1, presencePenalty: 0.6 });
    expect([s.sample(LOGITS), s.sample(LOGITS), s.sample(LOGITS)]).toEqual([3, 6, 3]); // 3-0.6=2.4 < 2.5, then 2.4 > 2.5-0.6
    const f = new TokenSampler(8, { temperature: 0, topP: 1, frequencyPenalty: 0.6 });
    expect(Array.from({ length: 5 }, () => f.sample(LOGITS))).toEqual([3, 6, 3, 0, 6]);
  });

  it('logprobs are log-softmax of the raw logits, top alternatives most likely first', () => {
    const s = new TokenSampler(8, {
      temperature: 0.7,
      topP: 1,
      seed: 3,
      logprobs: 3,
      logitBias: { 1: 5 },
    });
    const id = s.sample(LOGITS);
    const p = probs(LOGITS);
    expect(s.lastLogprobs!.logprob).toBeCloseTo(Math.log(p[id]), 6);
    expect(s.lastLogprobs!.top.map((t) => t.id)).toEqual([3, 6, 0]);
    expect(s.lastLogprobs!.top[0].logprob).toBeCloseTo(Math.log(p[3]), 6);
    expect(new TokenSampler(8, { temperature: 0, topP: 1 }).lastLogprobs).toBeUndefined();
  });

  it('topIds: partial selection, ties to the lower id', () => {
    expect(topIds(Float32Array.from([1, 5, 5, 3, 9]), 3)).toEqual([4, 1, 2]);
    expect(topIds(Float32Array.from([1, 2]), 0)).toEqual([]);
    expect(logprobsOf(Float32Array.from([0, 0]), 1, 1).logprob).toBeCloseTo(Math.log(0.5), 12);
  });
});
