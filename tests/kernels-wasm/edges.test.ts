// Edge cases the table's random inputs do not reach, on every backend's op set:
// rmsnorm in place, attention over a single position for GQA ratios 1/2/4, softmax/swiglu at extreme values.
import { describe, expect, it } from 'vitest';
import { cpuBackends, probe } from '../ops/backends';
import { prng } from '../ops/case';

const rand = prng(7);
const randomArray = (n: number, scale = 1) =>
  Float32Array.from({ length: n }, () => scale * (2 * rand() - 1));

for (const entry of cpuBackends) {
  const reason = await probe(entry);
  describe.skipIf(reason !== null)(`${entry.name} edges`, () => {
    it('rmsnorm with out aliasing x equals the out-of-place result', async () => {
      const b = await entry.kernels!.create();
      const ops = entry.kernels!.ops(b);
      for (const n of [1, 3, 7, 13, 67, 288]) {
        const x = b.alloc(n),
          w = b.alloc(n),
          out = b.alloc(n);
        const xs = randomArray(n, 3);
        b.write(x, xs);
        b.write(w, randomArray(n));
        ops.rmsnorm(out, x, w, n, 1e-5);
        ops.rmsnorm(x, x, w, n, 1e-5);
        expect(b.f32(x, n)).toEqual(b.f32(out, n));
      }
    });

    it.each([1, 2, 4])(
      'attention over one position returns v exactly (GQA ratio %i)',
      async (ratio) => {
        const b = await entry.kernels!.create();
        const ops = entry.kernels!.ops(b);
        const nKvHeads = 2,
          nHeads = nKvHeads * ratio;
        for (const headDim of [3, 16, 21]) {
          const kvDim = nKvHeads * headDim;
          const q = b.alloc(nHeads * headDim),
            k = b.alloc(kvDim),
            v = b.alloc(kvDim);
          const att = b.alloc(nHeads),
            out = b.alloc(nHeads * headDim);
          const vs = randomArray(kvDim);
          b.write(q, randomArray(nHeads * headDim));
          b.write(k, randomArray(kvDim));
          b.write(v, vs);
          ops.attention(out, q, k, v, att, nHeads, nKvHeads, headDim, 1);
          const got = b.f32(out, nHeads * headDim);
          for (let h = 0; h < nHeads; h++) {
            const kvh = Math.floor(h / ratio);
            expect(got.subarray(h * headDim, (h + 1) * headDim)).toEqual(
              vs.subarray(kvh * headDim, (kvh + 1) * headDim),
            );
          }
          expect(Array.from(b.f32(att, nHeads))).toEqual(new Array(nHeads).fill(1));
        }
      },
    );

    it('softmax of huge values neither overflows nor loses the ordering', async () => {
      const b = await entry.kernels!.create();
      const ops = entry.kernels!.ops(b);
      const values = [3e38, 1e4, 1e4 - 1, -1e4, 0, -3e38, 88, 89, -87.5, -104];
      for (const data of [values, values.map((v) => v / 1e34), new Array(13).fill(1e30)]) {
        const n = data.length,
          x = b.alloc(n);
        b.write(x, Float32Array.from(data));
        ops.softmax(x, n);
        const p = Array.from(b.f32(x, n));
        expect(p.every(Number.isFinite)).toBe(true);
        expect(p.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
        expect(p.indexOf(Math.max(...p))).toBe(data.indexOf(Math.max(...data)));
      }
    });

    it('swiglu saturates cleanly at large |a|', async () => {
      const b = await entry.kernels!.create();
      const ops = entry.kernels!.ops(b);
      const as = [-1000, -100, -90, 90, 100, 1000, -3e38, 3e38];
      const a = b.alloc(as.length),
        g = b.alloc(as.length);
      b.write(a, Float32Array.from(as));
      b.write(g, new Float32Array(as.length).fill(0.5));
      ops.swiglu(a, g, as.length);
      const got = Array.from(b.f32(a, as.length));
      const want = as.map((v) => (v < 0 ? 0 : v * 0.5)); // silu(a) -> 0 (a << 0), a (a >> 0)
      got.forEach((v, i) =>
        expect(Math.abs(v - want[i])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want[i]))),
      );
    });
  });
}
