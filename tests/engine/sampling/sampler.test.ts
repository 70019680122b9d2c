// The run.c sampler: xorshift64* stream, argmax ties, top-p, determinism.
import { describe, expect, it } from 'vitest';
import { argmax, Sampler, XorShiftRng } from '../../../engine/index';
import { sortByProbDesc } from '../../../engine/sampling/sampler';

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
});
