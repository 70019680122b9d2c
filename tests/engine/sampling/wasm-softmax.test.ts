// The samplers' softmax in WASM (kernels-wasm/assembly/softmax-runc.ts): bit for bit the JS loops it replaces
// (softmaxF32Js: f32 subtract, Math.exp, f32 sum in order, f32 divide) on random logits of many sizes and
// spreads, with ties, -Infinity (a banned token), values that underflow, and sizes off the 4-lane step; and a
// seeded sampler draws the same tokens through it as through the JS loops. Likewise logprobs' Σ exp.
import { describe, expect, it } from 'vitest';
import {
  Sampler,
  softmaxF32,
  softmaxF32Js,
  useWasmSoftmax,
} from '../../../engine/sampling/sampler';
import { expSumJs } from '../../../engine/sampling/logprobs';
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
});
