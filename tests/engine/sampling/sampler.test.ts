// The run.c sampler: xorshift64* stream, argmax ties, top-p, determinism.
import { describe, expect, it } from 'vitest';
import { argmax, Sampler, XorShiftRng } from '../../../engine/index';
import { softmaxF32Js, sortByProbDesc } from '../../../engine/sampling/sampler';

describe('sampler', () => {
  it("reproduces run.c's random_u32 / random_f32 stream", () => {
    const rng = new XorShiftRng(133742);
    expect([rng.nextU32(), rng.nextU32()]).toEqual([3033531262, 2674377904]);
    expect(rng.nextF32()).toBe(0.5385057330131531);
  });

  it('takes the first maximum at temperature 0', () => {
    expect(argmax(Float32Array.from([0, 3, 1, 3]))).toBe(1);
    expect(
      new Sampler(4, { temperature: 0, topP: 0.9 }).sample(Float32Array.from([0, 3, 1, 3])),
    ).toBe(1);
  });

  it('never samples outside the top-p nucleus and leaves the logits alone', () => {
    const logits = Float32Array.from([5, 4.9, 0, -1, -2, 1]);
    const before = logits.slice();
    const sampler = new Sampler(logits.length, { temperature: 1, topP: 0.5, seed: 9 });
    const seen = new Set(Array.from({ length: 200 }, () => sampler.sample(logits)));
    expect([...seen].sort()).toEqual([0]); // p(0) ≈ 0.52 alone already exceeds top-p 0.5
    expect(logits).toEqual(before);
    const wide = new Sampler(logits.length, { temperature: 1, topP: 0.99, seed: 9 });
    expect(new Set(Array.from({ length: 200 }, () => wide.sample(logits))).size).toBeGreaterThan(2);
  });

  it('is deterministic per seed and draws a seed when none is given', () => {
    const logits = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i));
    const run = (seed?: number) => {
      const s = new Sampler(50, { temperature: 1, topP: 0.9, seed });
      return { seed: s.seed, ids: Array.from({ length: 20 }, () => s.sample(logits)) };
    };
    expect(run(5).ids).toEqual(run(5).ids);
    const drawn = run();
    expect(Number.isSafeInteger(drawn.seed)).toBe(true);
    expect(run(drawn.seed).ids).toEqual(drawn.ids);
  });

  it('orders top-p candidates by radix exactly as a stable comparator sort does (ties, zeros, subsets)', () => {
    const rng = new XorShiftRng(7);
    for (const n of [1, 2, 255, 256, 257, 5000, 129_280]) {
      // few distinct values (many ties), zeros, and a spread of exponents
      const probs = Float32Array.from({ length: n }, () => {
        const r = rng.nextF32();
        return r < 0.1 ? 0 : r < 0.5 ? Math.round(r * 8) / 64 : r ** 9 * 1e-3;
      });
      const candidates = Int32Array.from({ length: n }, (_, i) => i).filter(
        () => rng.nextF32() < 0.8,
      );
      const reference = candidates.slice().sort((a, b) => probs[b] - probs[a]);
      const order = new Int32Array(n);
      order.set(candidates);
      expect(sortByProbDesc(probs, order, candidates.length), `n=${n}`).toEqual(reference);
    }
  });

  it('top-p draws the tokens run.c sample_topp does with a full stable sort (peaked, flat, ties, banned)', () => {
    // The reference: run.c's sample_topp over a comparator sort of every candidate, in the sampler's f32 order.
    const reference = (logits: Float32Array, t: number, p: number, rng: XorShiftRng) => {
      const probs = Float32Array.from(logits, (v) => v / t);
      softmaxF32Js(probs);
      const coin = rng.nextF32();
      const cutoff = Math.fround(Math.fround(1 - p) / (probs.length - 1));
      const order = Array.from(probs.keys())
        .filter((i) => probs[i] >= cutoff)
        .sort((a, b) => probs[b] - probs[a] || a - b);
      let cumulative = 0,
        last = order.length - 1;
      for (let i = 0; i < order.length; i++) {
        cumulative = Math.fround(cumulative + probs[order[i]]);
        if (cumulative > p) {
          last = i;
          break;
        }
      }
      const r = Math.fround(coin * cumulative);
      let cdf = 0;
      for (let i = 0; i <= last; i++) {
        cdf = Math.fround(cdf + probs[order[i]]);
        if (r < cdf) return order[i];
      }
      return order[last];
    };
    const src = new XorShiftRng(11);
    const gauss = () => (src.nextF32() + src.nextF32() + src.nextF32() - 1.5) * 2;
    let draws = 0;
    for (const [n, scale, p] of [
      [3000, 6, 0.9], // peaked: a short head
      [3000, 0.5, 0.9], // flat: nearly everything
      [20755, 3, 0.95],
      [64, 1, 0.5],
      [500, 12, 0.99],
      [2000, 2, 0.3],
    ] as const) {
      const logits = Float32Array.from({ length: n }, () => Math.round(gauss() * scale * 4) / 4); // ties
      logits[7] = -Infinity; // a banned token
      const sampler = new Sampler(n, { temperature: 0.9, topP: p, seed: 41 });
      const rng = new XorShiftRng(41);
      for (let k = 0; k < 60; k++, draws++)
        expect(sampler.sample(logits), `n=${n} scale=${scale} p=${p} draw ${k}`).toBe(
          reference(logits, Math.fround(0.9), Math.fround(p), rng),
        );
    }
    expect(draws).toBe(360);
  });
});
