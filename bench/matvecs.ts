// The batched decode kernel against one matvec per token (`npx tsx bench/matvecs.ts [kernels.wasm]`, default
// the relaxed build, bound as Node binds it): Q8_0 2048 × 768 (a stories110M FFN matrix), 24 copies so the
// weights come from DRAM as in a model (COPIES=1: hot in cache), n = 1, 2, 4, 8 tokens; µs per matrix, mean of
// 5 passes over the copies, 5 rounds. Every token's output is the matvec's bits either way
// (tests/kernels-wasm/matvecs.test.ts); this measures whether reading each weight once pays.
import { readFile } from 'node:fs/promises';
import { createWasmKernels } from '../kernels-wasm/index';
import { quantScratchBytes, quantizeQ8_0 } from '../kernels-wasm/quant';
import { placeBytes, placeF32, prng, uniform } from '../tests/ops/case';

const file = process.argv[2] ?? 'kernels-wasm/build/kernels-relaxed.wasm';
const k = await createWasmKernels(await WebAssembly.compile(await readFile(file)), { q8: false });
const rows = 2048,
  cols = 768,
  copies = Number(process.env.COPIES ?? 24),
  N = 8;
const rand = prng(5);
const qw = quantizeQ8_0(uniform(rand, rows * cols), rows, cols);
const ws = Array.from({ length: copies }, () => ({
  w: placeBytes(k, qw.q),
  d: placeBytes(k, qw.d),
}));
const x = placeF32(k, uniform(rand, N * cols, -2, 2));
const out = k.alloc(N * rows),
  xq = k.alloc(quantScratchBytes(cols, N) / 4);
const time = (f: () => void) => {
  const t = performance.now();
  for (let r = 0; r < 5; r++) f();
  return ((performance.now() - t) * 1000) / 5 / copies;
};
for (let round = 0; round < 5; round++) {
  const res: string[] = [];
  for (const n of [1, 2, 4, 8]) {
    const single = time(() => {
      for (const { w, d } of ws)
        for (let t = 0; t < n; t++)
          k.quant!.matvecQ8(out + t * rows * 4, w, d, x + t * cols * 4, xq, rows, cols);
    });
    const batched = time(() => {
      for (const { w, d } of ws) k.matvecs!.matvecsQ8(out, w, d, x, xq, rows, cols, n);
    });
    res.push(
      `n=${n}: ${n} matvecs ${single.toFixed(0)} µs, matvecs_q8_0 ${batched.toFixed(0)} µs (${(single / batched).toFixed(2)}×)`,
    );
  }
  console.log(res.join(' | '));
}
