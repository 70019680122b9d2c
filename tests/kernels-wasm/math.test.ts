// The wasm kernels' scalar math: the vector expf's accuracy, and RoPE's llama2.c float32 order
// (bit-equal between the SIMD kernel, its twin and a float32 emulation of llama2.c's loop).
import { beforeAll, describe, expect, it } from 'vitest';
import { createWasmKernels } from '../../kernels-wasm/index';
import { loadKernelsModule } from '../../kernels-wasm/node';
import type { KernelBackend } from '../../kernels-wasm/types';
import { prng } from '../ops/case';

let module: WebAssembly.Module;
beforeAll(async () => {
  module = await loadKernelsModule();
});

describe('expf', () => {
  const n = 1 << 16;
  const xs = Float32Array.from({ length: n }, (_, i) => -87 + (175.7 * i) / n);

  it.each(['exp_f32x4', 'exp_scalar'])(
    '%s is within 2 ulp of exp over [-87, 88.7]',
    async (name) => {
      const inst = await WebAssembly.instantiate(module, { env: { abort() {} } });
      const { memory, heapBase } = inst.exports as {
        memory: WebAssembly.Memory;
        heapBase(): number;
      };
      memory.grow(8);
      const ptr = Math.ceil(heapBase() / 16) * 16;
      new Float32Array(memory.buffer, ptr, n).set(xs);
      (inst.exports[name] as (p: number, n: number) => void)(ptr, n);
      const got = new Float32Array(memory.buffer, ptr, n);
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(got[i] / Math.exp(xs[i]) - 1));
      expect(worst).toBeLessThan(2 * 2 ** -23);
    },
  );
});

/** llama2.c's RoPE loop with every operation rounded to float32, as its C code does. */
function llama2cRope(
  v: Float32Array,
  heads: number,
  headDim: number,
  pos: number,
  theta: number,
): Float32Array {
  const f = Math.fround,
    out = v.slice();
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < headDim; i += 2) {
      const freq = f(1 / f(Math.pow(theta, f(i / headDim))));
      const val = f(pos * freq);
      const c = f(Math.cos(val)),
        s = f(Math.sin(val)),
        p = h * headDim + i;
      out[p] = f(f(v[p] * c) - f(v[p + 1] * s));
      out[p + 1] = f(f(v[p] * s) + f(v[p + 1] * c));
    }
  }
  return out;
}

describe('rope', () => {
  const shapes = [
    [1, 1, 2, 0],
    [2, 1, 6, 3],
    [4, 2, 8, 17],
    [3, 1, 14, 5],
    [12, 4, 64, 1023],
    [8, 8, 48, 4095],
  ];
  it.each(shapes)(
    'matches llama2.c float32 math bit for bit (heads %i/%i, headDim %i, pos %i)',
    async (nHeads, nKvHeads, headDim, pos) => {
      const rand = prng(pos + 1);
      const q = Float32Array.from({ length: nHeads * headDim }, () => 2 * rand() - 1);
      const k = Float32Array.from({ length: nKvHeads * headDim }, () => 2 * rand() - 1);
      const b: KernelBackend = await createWasmKernels(module);
      for (const ops of [b, b.scalar]) {
        const qp = b.alloc(q.length),
          kp = b.alloc(k.length);
        b.write(qp, q);
        b.write(kp, k);
        ops.rope(qp, kp, nHeads, nKvHeads, headDim, pos, 10000);
        expect(b.f32(qp, q.length)).toEqual(llama2cRope(q, nHeads, headDim, pos, 10000));
        expect(b.f32(kp, k.length)).toEqual(llama2cRope(k, nKvHeads, headDim, pos, 10000));
      }
    },
  );

  it('stays exact when calls repeat a (pos, headDim, theta) and when any of them changes (its angle table)', async () => {
    const b: KernelBackend = await createWasmKernels(module);
    const rand = prng(99);
    const calls: [number, number, number][] = [
      [64, 5, 10000],
      [64, 5, 10000],
      [64, 6, 10000],
      [64, 6, 500000],
      [32, 6, 500000],
      [64, 6, 10000],
      [64, 6, 10000],
      [1024, 3, 10000],
      [1024, 3, 10000],
    ];
    for (const [headDim, pos, theta] of calls) {
      const q = Float32Array.from({ length: 2 * headDim }, () => 2 * rand() - 1);
      const qp = b.alloc(q.length),
        kp = b.alloc(headDim);
      b.write(qp, q);
      b.write(kp, q.subarray(0, headDim));
      b.rope(qp, kp, 2, 1, headDim, pos, theta);
      expect(b.f32(qp, q.length)).toEqual(llama2cRope(q, 2, headDim, pos, theta));
      expect(b.f32(kp, headDim)).toEqual(
        llama2cRope(q.subarray(0, headDim), 1, headDim, pos, theta),
      );
    }
  });
});
