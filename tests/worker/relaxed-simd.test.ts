// Relaxed SIMD inside workerd: kernels-relaxed.wasm (the build the Worker imports) instantiates, its
// relaxed-SIMD Q8_0 matvec is bit-identical to matvec_q8_0 and matches its scalar twin, the binding uses it,
// and the time of both builds' decode matvecs is logged.
import { expect, it } from 'vitest';
import plain from '../../kernels-wasm/build/kernels.wasm';
import relaxed from '../../kernels-wasm/build/kernels-relaxed.wasm';
import { createWasmKernels } from '../../kernels-wasm/index';
import { quantScratchBytes, quantizeQ8_0 } from '../../kernels-wasm/quant';
import { relaxedCases } from '../ops/quant-cases';
import { cpuBackend, runCase } from '../ops/runner';

it('validates and runs the relaxed-SIMD Q8_0 matvec inside workerd, bit-identical to the SIMD kernel', async () => {
  // The table's relaxed edge cases through the conformance runner, as the wasm-relaxed backend in Node.
  const backend = await cpuBackend({
    name: 'wasm-relaxed',
    create: () => createWasmKernels(relaxed as WebAssembly.Module),
    set: 'main',
    twin: true,
    bitTwin: { name: 'wasm-simd', create: () => createWasmKernels(plain as WebAssembly.Module) },
  }).start();
  expect(relaxedCases.length).toBe(26);
  for (const c of relaxedCases) {
    const { measures, failures } = await runCase(backend, c);
    expect(failures, c.name).toEqual([]);
    expect(measures.length, c.name).toBe(2); // vs the int8 math, vs the scalar twin
  }
});

it('binds matvecQ8 to the relaxed kernel when the module has it', async () => {
  const k = await createWasmKernels(relaxed as WebAssembly.Module);
  expect((k.quant!.matvecQ8 as unknown as { name: string }).name).toBe(await exportName());
});

async function exportName(): Promise<string> {
  const { exports } = await WebAssembly.instantiate(relaxed as WebAssembly.Module, {
    env: { abort: () => {} },
  });
  return (exports.matvec_q8_0_relaxed as { name: string }).name;
}

// Side-by-side timing (logged, not asserted): the stories110M decode matvecs with each build's bound matvecQ8.
// workerd's clock only moves between events, so each timed batch ends at a timer. bench/RESULTS.md has the numbers.
it('logs the q8 decode matvec time of kernels.wasm and kernels-relaxed.wasm in workerd', async () => {
  const shapes: [number, number, number][] = [
    [768, 768, 4],
    [2048, 768, 2],
    [768, 2048, 1],
    [32000, 768, 1],
  ];
  let s = 7;
  const rand = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const data = shapes.map(([rows, cols]) => ({
    q: quantizeQ8_0(Float32Array.from({ length: rows * cols }, rand), rows, cols),
    x: Float32Array.from({ length: cols }, rand),
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
        const xp = k.alloc(cols),
          xq = k.alloc(Math.ceil(quantScratchBytes(cols) / 4)),
          op = k.alloc(rows);
        k.write(xp, x);
        return () => {
          for (let i = 0; i < times; i++) quant.matvecQ8(op, wp, dp, xp, xq, rows, cols);
        };
      });
      return {
        layer: () => {
          calls[0]();
          calls[1]();
          calls[2]();
        },
        head: calls[3],
      };
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
      best[i].layer = Math.min(best[i].layer, await time(r.layer, 200));
      best[i].head = Math.min(best[i].head, await time(r.head, 40));
    }
  }
  for (const [i, name] of ['kernels.wasm', 'kernels-relaxed.wasm'].entries()) {
    const { layer, head } = best[i];
    console.log(
      `workerd ${name}: q8 layer matvecs ${(layer * 1e3).toFixed(1)} µs, classifier ${(head * 1e3).toFixed(1)} µs, ${(1000 / (12 * layer + head)).toFixed(1)} tok/s`,
    );
  }
  expect(best.every((b) => b.layer > 0)).toBe(true);
});
