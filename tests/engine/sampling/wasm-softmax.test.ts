// The samplers' softmax in WASM (kernels-wasm/assembly/softmax-runc.ts): bit for bit the JS loops it replaces
// (softmaxF32Js: f32 subtract, Math.exp, f32 sum in order, f32 divide) on random logits of many sizes and
// spreads, with ties, -Infinity (a banned token), values that underflow, and sizes off the 4-lane step; and a
// seeded sampler draws the same tokens through it as through the JS loops. Likewise logprobs' Σ exp and the
// speculative sampler's untruncated distribution (spec_distribution).
import { describe, expect, it } from 'vitest';
import {
  Sampler,
  softmaxF32,
  softmaxF32Js,
  useWasmSoftmax,
} from '../../../engine/sampling/sampler';
import { expSumJs } from '../../../engine/sampling/logprobs';
import { SpecSampler } from '../../../engine/sampling/spec-sampler';
import { createWasmKernels } from '../../../kernels-wasm/index';
import { loadKernelsModule } from '../../../kernels-wasm/node';
import { prng } from '../../ops/case';

describe('softmax_runc', async () => {
  const k = await createWasmKernels(await loadKernelsModule());
  const rand = prng(23);
  const cases: Float32Array[] = [];
  for (const [n, spread] of [
    [1, 1],
    [3, 1],
    [7, 5],
    [65, 2],
    [512, 40],
    [20755, 3],
    [20755, 12],
    [1001, 300],
    [1000, 2000],
    [33, 1e-9],
  ] as const)
    for (let r = 0; r < 3; r++)
      cases.push(Float32Array.from({ length: n }, () => (rand() * 2 - 1) * spread));
  const edges = Float32Array.from({ length: 70 }, () => rand() * 4);
  edges[3] = edges[10] = -Infinity;
  edges[20] = edges[21] = 3.999; // a tie at the top
  edges[30] = -800; // under exp's range: 0
  edges[31] = -720; // fdlibm's subnormal path, 0 in f32
  edges[32] = 1e-30; // next to 0
  cases.push(edges);

  it('equals the JS loops bit for bit', () => {
    const ptr = k.alloc(20755);
    let n = 0;
    for (const c of cases) {
      const want = c.slice();
      softmaxF32Js(want);
      k.f32(ptr, c.length).set(c);
      k.softmaxRunC!(ptr, c.length);
      const got = k.f32(ptr, c.length);
      for (let i = 0; i < c.length; i++)
        expect(Object.is(got[i], want[i]), `n=${c.length} i=${i}`).toBe(true);
      n += c.length;
    }
    expect(n).toBeGreaterThan(100_000);
  });

  it("exp_sum_runc: logprobs.ts logSumExp's f64 sum, bit for bit", () => {
    const ptr = k.alloc(20755);
    for (const c of cases) {
      let max = -Infinity;
      for (const v of c) if (v > max) max = v;
      k.f32(ptr, c.length).set(c);
      expect(Object.is(k.expSumRunC!(ptr, c.length, max), expSumJs(c, max)), `n=${c.length}`).toBe(
        true,
      );
    }
  });

  it('a seeded sampler draws the same tokens through it (T = 0.8, top-p 1 and 0.9)', () => {
    const logits = Array.from({ length: 40 }, () =>
      Float32Array.from({ length: 4096 }, () => (rand() * 2 - 1) * 5),
    );
    const draw = (topP: number) => {
      const s = new Sampler(4096, { temperature: 0.8, topP, seed: 99 });
      return logits.map((l) => s.sample(l));
    };
    const js = [draw(1), draw(0.9)];
    useWasmSoftmax(k, 4096);
    const probe = Float32Array.from({ length: 100 }, (_, i) => i / 10);
    const a = probe.slice(),
      b = probe.slice();
    softmaxF32(a);
    softmaxF32Js(b);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect([draw(1), draw(0.9)]).toEqual(js);
  });

  /** spec-sampler.ts's untruncated distribution in its JS loops: x ÷ t, softmax, out = x / mass over x > 0. */
  function distributionJs(c: Float32Array, t: number): { out: Float64Array; mass: number } {
    const w = c.slice();
    for (let i = 0; i < w.length; i++) w[i] = w[i] / t;
    softmaxF32Js(w);
    let mass = 0;
    for (let i = 0; i < w.length; i++) if (w[i] > 0) mass += w[i];
    const out = new Float64Array(w.length);
    for (let i = 0; i < w.length; i++) if (w[i] > 0) out[i] = w[i] / mass;
    return { out, mass };
  }

  it("spec_distribution: the speculative sampler's untruncated distribution, bit for bit", () => {
    const ptr = k.alloc(20755),
      outPtr = k.alloc(2 * 20755);
    let zeros = 0;
    for (const c of cases)
      for (const t of [Math.fround(0.8), 1, Math.fround(0.3), Math.fround(1.7)]) {
        const want = distributionJs(c, t);
        k.f32(ptr, c.length).set(c);
        const mass = k.specDistribution!(ptr, c.length, t, outPtr);
        expect(Object.is(mass, want.mass), `n=${c.length} t=${t}`).toBe(true);
        const f = k.f32(outPtr, 2 * c.length);
        const got = new Float64Array(f.buffer, f.byteOffset, c.length);
        for (let i = 0; i < c.length; i++) {
          expect(Object.is(got[i], want.out[i]), `n=${c.length} t=${t} i=${i}`).toBe(true);
          if (got[i] === 0) zeros++;
        }
      }
    expect(zeros).toBeGreaterThan(0); // ids whose p underflowed (and -Infinity) are 0, as in JS
  });

  it("SpecSampler's distribution goes through the registered kernel and equals its JS loops", () => {
    // this file registered a 4096-id kernel above
    for (const t of [0.8, 1.3]) {
      const logits = Float32Array.from({ length: 3000 }, () => (rand() * 2 - 1) * 6);
      const p = new Float64Array(3000);
      new SpecSampler(3000, { temperature: t, topP: 1 }, 5).distribution(logits, p);
      const want = distributionJs(logits, Math.fround(t)).out;
      for (let i = 0; i < 3000; i++) expect(Object.is(p[i], want[i]), `t=${t} i=${i}`).toBe(true);
    }
  });
});
