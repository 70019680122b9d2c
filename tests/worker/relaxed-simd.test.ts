// Relaxed SIMD inside workerd: kernels-relaxed.wasm (the build the Worker imports) instantiates, its
// relaxed-SIMD Q8_0 and Q4_0 matvecs (and the repacked Q4_0 ones) are bit-identical to kernels.wasm's and match their scalar twins, the
// binding uses them, and the time of both builds' decode matvecs and Q4_0 prefill matmuls is logged.
import { expect, it } from 'vitest';
import plain from '../../kernels-wasm/build/kernels.wasm';
import relaxed from '../../kernels-wasm/build/kernels-relaxed.wasm';
import { WORKER_RELAXED, createWasmKernels } from '../../kernels-wasm/index';
import { quantScratchBytes, quantizeQ4_0, quantizeQ8_0 } from '../../kernels-wasm/quant';
import { q4x8Cases, relaxedCases } from '../ops/quant-cases';
import { cpuBackend, runCase } from '../ops/runner';

it('validates and runs the relaxed-SIMD Q8_0/Q4_0 kernels inside workerd, bit-identical to the SIMD ones', async () => {
  // The table's relaxed edge cases through the conformance runner, as the wasm-relaxed backend in Node.
  const backend = await cpuBackend({
    name: 'wasm-relaxed',
    create: () => createWasmKernels(relaxed as WebAssembly.Module),
    set: 'main',
    twin: true,
    bitTwin: { name: 'wasm-simd', create: () => createWasmKernels(plain as WebAssembly.Module) },
  }).start();
  expect(relaxedCases.length).toBe(28);
  // and the repacked Q4_0 kernels' rows (the bench-only sizes aside)
  const packed = q4x8Cases.filter((c) => !c.bench);
  expect(packed.length).toBeGreaterThanOrEqual(10);
  for (const c of [...relaxedCases, ...packed]) {
    const { measures, failures } = await runCase(backend, c);
    expect(failures, c.name).toEqual([]);
    // vs the int8 math and the scalar twin (and, for quantized random weights, vs dequantized W · x)
    expect(measures.length, c.name).toBeGreaterThanOrEqual(2);
  }
});

it("the Worker's binding (WORKER_RELAXED: two-blocks-per-pass SIMD Q8_0) is bit-identical to kernels.wasm", async () => {
  const backend = await cpuBackend({
    name: 'wasm-relaxed, Worker binding',
    create: () => createWasmKernels(relaxed as WebAssembly.Module, WORKER_RELAXED),
    set: 'main',
    twin: true,
    bitTwin: { name: 'wasm-simd', create: () => createWasmKernels(plain as WebAssembly.Module) },
  }).start();
  const q8 = relaxedCases.filter((c) => c.op === 'matvecQ8');
  expect(q8.length).toBeGreaterThan(5);
  for (const c of q8) expect((await runCase(backend, c)).failures, c.name).toEqual([]);
  const q = (await createWasmKernels(relaxed as WebAssembly.Module, WORKER_RELAXED)).quant!;
  expect((q.matvecQ8 as unknown as { name: string }).name).toBe(
    await exportName('matvec_q8_0_pairs'),
  );
});

it('binds matvecQ8, matvecQ4 and matmulQ4 to the relaxed kernels when the module has them', async () => {
  const q = (await createWasmKernels(relaxed as WebAssembly.Module)).quant!;
  const name = (f: unknown) => (f as { name: string }).name;
  expect(name(q.matvecQ8)).toBe(await exportName('matvec_q8_0_relaxed'));
  expect(name(q.matvecQ4)).toBe(await exportName('matvec_q4_0_relaxed'));
  expect(name(q.matmulQ4)).toBe(await exportName('matmul_q4_0_relaxed'));
  const p = (await createWasmKernels(relaxed as WebAssembly.Module)).q4x8!;
  expect(p.relaxed).toBe(true);
  expect(name(p.matvecQ4x8)).toBe(await exportName('matvec_q4_0x8_relaxed'));
  expect(name(p.matmulQ4x8)).toBe(await exportName('matmul_q4_0x8_relaxed'));
});

async function exportName(n: string): Promise<string> {
  const { exports } = await WebAssembly.instantiate(relaxed as WebAssembly.Module, {
    env: { abort: () => {} },
  });
  return (exports[n] as { name: string }).name;
}

// Side-by-side timing (logged, not asserted): one stories110M layer's matvecs (n = 1) or 32-token matmuls (n = 32,
// a prefill chunk) and the classifier's matvec, with each build's bound kernels. workerd's clock only moves between
// events, so each timed batch ends at a timer. bench/RESULTS.md has the numbers.
async function timeBuilds(
  format: 'q8' | 'q4',
  n: number,
): Promise<{ layer: number; head: number }[]> {
  const shapes: [number, number, number][] = [
    [768, 768, 4],
    [2048, 768, 2],
    [768, 2048, 1],
    [32000, 768, 1],
  ];
  let s = 7;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const quantize = format === 'q8' ? quantizeQ8_0 : quantizeQ4_0;
  const data = shapes.map(([rows, cols]) => ({
    q: quantize(Float32Array.from({ length: rows * cols }, rand), rows, cols),
    x: Float32Array.from({ length: cols * n }, rand),
  }));
  const runs = await Promise.all(
    [plain, relaxed].map(async (m) => {
      const k = await createWasmKernels(m as WebAssembly.Module),
        quant = k.quant!,
        bytes = k.bytes!;
      const calls = shapes.map(([rows, cols, times], j) => {
        const { q, x } = data[j];
        const wp = k.alloc(Math.ceil(q.q.byteLength / 4)),
          dp = k.alloc(Math.ceil(q.d.byteLength / 4));
        bytes(wp, q.q.byteLength).set(q.q);
        bytes(dp, q.d.byteLength).set(new Uint8Array(q.d.buffer, q.d.byteOffset, q.d.byteLength));
        const tokens = j === 3 ? 1 : n;
        const xp = k.alloc(cols * tokens),
          xq = k.alloc(Math.ceil(quantScratchBytes(cols, tokens) / 4)),
          op = k.alloc(rows * tokens);
        k.write(xp, x.subarray(0, cols * tokens));
        const mv = format === 'q8' ? quant.matvecQ8 : quant.matvecQ4;
        const mm = format === 'q8' ? quant.matmulQ8 : quant.matmulQ4;
        return () => {
          for (let i = 0; i < times; i++)
            if (tokens === 1) mv(op, wp, dp, xp, xq, rows, cols);
            else mm(op, wp, dp, xp, xq, rows, cols, tokens);
        };
      });
      return { layer: () => calls.slice(0, 3).forEach((c) => c()), head: calls[3] };
    }),
  );
  const tick = () => new Promise((r) => setTimeout(r, 0));
  const time = async (f: () => void, iters: number) => {
    await tick();
    const t0 = Date.now();
    for (let i = 0; i < iters; i++) f();
    await tick();
    return (Date.now() - t0) / iters;
  };
  const best = runs.map(() => ({ layer: Infinity, head: Infinity }));
  for (let rep = 0; rep < 3; rep++) {
    for (const [i, r] of runs.entries()) {
      best[i].layer = Math.min(best[i].layer, await time(r.layer, n === 1 ? 60 : 4));
      best[i].head = Math.min(best[i].head, await time(r.head, 12));
    }
  }
  return best;
}

for (const format of ['q8', 'q4'] as const) {
  it(`logs the ${format} decode matvec time of kernels.wasm and kernels-relaxed.wasm in workerd`, async () => {
    const best = await timeBuilds(format, 1);
    for (const [i, name] of ['kernels.wasm', 'kernels-relaxed.wasm'].entries()) {
      const { layer, head } = best[i];
      console.log(
        `workerd ${name}: ${format} layer matvecs ${(layer * 1e3).toFixed(1)} µs, classifier ${(head * 1e3).toFixed(1)} µs, ${(1000 / (12 * layer + head)).toFixed(1)} tok/s`,
      );
    }
    expect(best.every((b) => b.layer > 0)).toBe(true);
  });
}

it('logs the q4 prefill matmul time (32 tokens) of kernels.wasm and kernels-relaxed.wasm in workerd', async () => {
  const best = await timeBuilds('q4', 32);
  for (const [i, name] of ['kernels.wasm', 'kernels-relaxed.wasm'].entries()) {
    const { layer } = best[i];
    console.log(
      `workerd ${name}: q4 layer matmuls, 32 tokens ${layer.toFixed(2)} ms, ${((32 * 1000) / (12 * layer)).toFixed(1)} matmul tok/s`,
    );
  }
  expect(best.every((b) => b.layer > 0)).toBe(true);
});
