// Quantized-kernel benchmark: Q8_0, Q4_0 and FP8 matvec/matmul vs f32 on the same shapes (wasm-simd, one
// thread), against this machine's limits measured the same way: single-core streaming-read bandwidth and
// register-only SIMD peaks. Also the integer-dot vs float-dequant comparison that chose the Q8_0/Q4_0 kernels.
// Run alone: node_modules/.bin/tsx bench/quant.ts
// Batched (prefill) side by side: tsx bench/quant.ts --batched [a.wasm b.wasm ...] times the q8/q4 matmuls of
// one stories110M layer at a 32-token chunk, the engine's 512-token prefill and its decode with each kernels.wasm given
// (default: the built one), interleaved so that the machine's load hits them alike.
// Decode side by side: tsx bench/quant.ts --matvec [a.wasm b.wasm ...] times the stories110M q8 matvecs with each
// (default: kernels.wasm and kernels-relaxed.wasm; workerd's timing of the two is in tests/worker/relaxed-simd.test.ts).
// FMA: tsx bench/quant.ts --fma sets f32x4.relaxed_madd's peak and an FMA f32 matmul tile beside mul + add (benchFma).
// "hot" repeats one call on the same buffers (cache-resident when they fit); "cold" rotates over copies
// totalling > 96 MiB (3× this machine's L3), so every call streams its weights from DRAM, as a forward pass does.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { createWasmKernels } from '../kernels-wasm/index';
import { loadKernelsModule } from '../kernels-wasm/node';
import { DeepSeekReferenceModel } from '../engine/deepseek/reference';
import { generateSyntheticDeepSeek } from '../engine/deepseek/synthetic';
import { WasmDeepSeekModel } from '../engine/deepseek/wasm-model';
import { loadDeepSeekModel } from '../engine/deepseek/weights';
import { quantScratchBytes, quantizeQ4_0, quantizeQ8_0 } from '../kernels-wasm/quant';
import type { KernelBackend, QuantOps } from '../kernels-wasm/types';
import { caseHost, opCase, prng } from '../tests/ops/case';
import { F32_DOTS, quantSpecs } from '../tests/ops/quant-specs';
import { prepareCpu } from '../tests/ops/runner';
import { specs } from '../tests/ops/specs';

export interface QuantBenchOptions {
  /** Time per measured batch; the fastest of `batches` batches counts (least disturbed by neighbours). */
  batchMs?: number;
  batches?: number;
}

const COLD_BYTES = 96 * 2 ** 20;
type Mode = 'hot' | 'cold';
type Fn = (i: number) => void;

let wasmModule: Promise<WebAssembly.Module> | undefined;
async function backend(): Promise<KernelBackend> {
  wasmModule ??= loadKernelsModule();
  return createWasmKernels(await wasmModule);
}

/** Seconds per call of call(i) (i counts calls, for rotating over copies): best of `batches` calibrated batches. */
function time(call: Fn, batchMs: number, batches: number): number {
  for (let i = 0; i < 3; i++) call(i);
  let iters = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) call(i);
    const ms = performance.now() - t0;
    if (ms >= batchMs / 4 || iters >= 1 << 22) {
      iters = Math.max(1, Math.round((iters * batchMs) / Math.max(ms, 1e-3)));
      break;
    }
    iters *= 4;
  }
  let best = Infinity;
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) call(i);
    best = Math.min(best, (performance.now() - t0) / iters / 1000);
  }
  return best;
}

interface Limits {
  readL2: number; // GB/s
  readDram: number; // GB/s
  f32Peak: number; // GFLOP/s
  dotPeak: number; // G multiply-adds/s of i32x4.dot_i16x8_s
}

type BenchExports = {
  bench_read(p: number, bytes: number): number;
  bench_peak_f32(iters: number, m: number, c: number): number;
  bench_peak_dot(iters: number, seed: number): number;
  bench_matvec_q8_0_deq(
    out: number,
    w: number,
    d: number,
    x: number,
    rows: number,
    cols: number,
  ): void;
  bench_matvec_q4_0_deq(
    out: number,
    w: number,
    d: number,
    x: number,
    rows: number,
    cols: number,
  ): void;
};

type RawExports = BenchExports &
  Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory; heapBase(): number };

/** A raw instance of kernels.wasm (the binding exposes the contract only, not the bench exports) with a bump allocator. */
async function rawInstance(): Promise<{ x: RawExports; alloc(bytes: number): number }> {
  const module = await (wasmModule ??= loadKernelsModule());
  const inst = await WebAssembly.instantiate(module, {
    env: {
      abort: () => {
        throw new Error('kernels.wasm aborted');
      },
    },
  });
  const x = inst.exports as unknown as RawExports;
  let top = Math.ceil(x.heapBase() / 64) * 64;
  return {
    x,
    alloc(bytes) {
      const p = top;
      top = Math.ceil((top + bytes) / 64) * 64;
      if (top > x.memory.buffer.byteLength)
        x.memory.grow(Math.ceil((top - x.memory.buffer.byteLength) / 65536));
      return p;
    },
  };
}

async function measureLimits(batchMs: number, batches: number): Promise<Limits> {
  const { x, alloc } = await rawInstance();
  const dram = 256 * 2 ** 20,
    l2 = 256 * 2 ** 10;
  const base = alloc(dram);
  new Uint8Array(x.memory.buffer, base, dram).fill(1); // touch every page
  const readDram = dram / time(() => x.bench_read(base, dram), batchMs * 2, batches) / 1e9;
  const readL2 = l2 / time(() => x.bench_read(base, l2), batchMs, batches) / 1e9;
  const f32Iters = 1e6,
    dotIters = 1e6;
  const f32Peak =
    (48 * f32Iters) / time(() => x.bench_peak_f32(f32Iters, 1, 0), batchMs, batches) / 1e9;
  const dotPeak =
    (64 * dotIters) / time(() => x.bench_peak_dot(dotIters, 3), batchMs, batches) / 1e9;
  return { readL2, readDram, f32Peak, dotPeak };
}

interface Row {
  kernel: string;
  shape: string;
  mode: Mode;
  secs: number;
  flops: number;
  bytes: number;
  /** The peak this kernel's arithmetic runs on: f32 mul/add, or i16 dot products (2 ops per multiply-add). */
  peak: 'f32' | 'dot';
}

interface Subject {
  kernel: string;
  shape: string;
  flops: number;
  bytes: number;
  peak: 'f32' | 'dot';
  /** Places one copy in b; returns its call. */
  place(b: KernelBackend): () => void;
}

function f32Subject(rows: number, cols: number, n: number): Subject {
  const op = n === 1 ? 'matvec' : 'matmul';
  const shape = n === 1 ? { rows, cols } : { rows, cols, n };
  const c = opCase(op, specs[op] as (typeof specs)['matmul'], shape as never, 0);
  const host = caseHost(c);
  return {
    kernel: `f32 ${op}`,
    shape: `${rows}×${cols}${n > 1 ? ` ×${n} tok` : ''}`,
    flops: c.flops,
    bytes: c.bytes,
    peak: 'f32',
    place(b) {
      const p = prepareCpu(b, c, host);
      p.run(b); // writes the inputs: untouched pages are all one shared zero page, which would stay in cache
      return () => p.invoke(b);
    },
  };
}

function quantSubject(op: keyof QuantOps, rows: number, cols: number, n: number): Subject {
  const fp8 = op.endsWith('Fp8');
  const spec = quantSpecs[op];
  const shape = fp8 ? { rows, cols, n, br: 128, bc: 128 } : { rows, cols, n };
  const c = opCase(op, spec as (typeof quantSpecs)['matvecFp8'], shape as never, F32_DOTS);
  const host = caseHost(c);
  return {
    kernel: `${fp8 ? 'fp8' : op.slice(-2).toLowerCase()} ${op.slice(0, 6)}`,
    shape: `${rows}×${cols}${n > 1 ? ` ×${n} tok` : ''}`,
    flops: c.flops,
    bytes: c.bytes,
    peak: fp8 ? 'f32' : 'dot',
    place(b) {
      const p = prepareCpu(b, c, host);
      return () => p.invoke(b.quant!);
    },
  };
}

async function run(s: Subject, mode: Mode, batchMs: number, batches: number): Promise<Row> {
  const b = await backend();
  const copies = mode === 'cold' ? Math.ceil(COLD_BYTES / s.bytes) : 1;
  const calls = Array.from({ length: copies }, () => s.place(b));
  const secs = time((i) => calls[i % copies](), batchMs, batches);
  return {
    kernel: s.kernel,
    shape: s.shape,
    mode,
    secs,
    flops: s.flops,
    bytes: s.bytes,
    peak: s.peak,
  };
}

const fmt = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–');
const pct = (v: number) => `${fmt(100 * v, 0)}%`;

/** int-dot kernels vs the float-dequant alternative (bench.ts exports), one matvec shape, hot and cold. */
async function intVsFloat(
  rows: number,
  cols: number,
  batchMs: number,
  batches: number,
): Promise<string[]> {
  const lines: string[] = [];
  const rand = prng(5);
  const w = Float32Array.from({ length: rows * cols }, () => 2 * rand() - 1),
    x = Float32Array.from({ length: cols }, () => 2 * rand() - 1);
  for (const kind of ['q8_0', 'q4_0'] as const) {
    const wq = (kind === 'q8_0' ? quantizeQ8_0 : quantizeQ4_0)(w, rows, cols);
    const bytes = wq.q.byteLength + wq.d.byteLength;
    for (const mode of ['hot', 'cold'] as const) {
      const { x: ex, alloc } = await rawInstance();
      const copies = mode === 'cold' ? Math.ceil(COLD_BYTES / bytes) : 1;
      const xp = alloc(4 * cols),
        xq = alloc(quantScratchBytes(cols)),
        out = alloc(4 * rows);
      new Float32Array(ex.memory.buffer, xp, cols).set(x);
      const ws = Array.from({ length: copies }, () => {
        const wp = alloc(wq.q.byteLength),
          dp = alloc(wq.d.byteLength);
        new Uint8Array(ex.memory.buffer, wp, wq.q.byteLength).set(wq.q);
        new Uint16Array(ex.memory.buffer, dp, wq.d.length).set(wq.d);
        return [wp, dp];
      });
      const intFn = ex[kind === 'q8_0' ? 'matvec_q8_0' : 'matvec_q4_0'];
      const deqFn = ex[kind === 'q8_0' ? 'bench_matvec_q8_0_deq' : 'bench_matvec_q4_0_deq'];
      const tInt = time(
        (i) => intFn(out, ws[i % copies][0], ws[i % copies][1], xp, xq, rows, cols),
        batchMs,
        batches,
      );
      const tDeq = time(
        (i) => deqFn(out, ws[i % copies][0], ws[i % copies][1], xp, rows, cols),
        batchMs,
        batches,
      );
      lines.push(
        `| ${kind} matvec | ${rows}×${cols} | ${mode} | ${fmt(bytes / tInt / 1e9)} | ${fmt(bytes / tDeq / 1e9)} | ${fmt(tDeq / tInt, 2)}× |`,
      );
    }
  }
  return lines;
}

/** The synthetic DeepSeek-V3 checkpoint (FP8, the issue's shape): WASM forward vs the float64 reference. */
async function deepSeekRows(): Promise<string[]> {
  const files = generateSyntheticDeepSeek({ seed: 1 });
  const prompt = Array.from({ length: 64 }, (_, i) => (i * 37 + 11) % 512);
  const rows: string[] = [];
  const measure = (
    name: string,
    make: () => { prefill(p: number[]): unknown; forward(t: number[], pos: number): unknown },
  ) => {
    let best = { prefill: Infinity, decode: Infinity };
    for (let r = 0; r < 3; r++) {
      const m = make();
      let t0 = performance.now();
      m.prefill(prompt);
      const prefill = performance.now() - t0;
      t0 = performance.now();
      for (let pos = prompt.length; pos < prompt.length + 32; pos++) m.forward([pos % 512], pos);
      best = {
        prefill: Math.min(best.prefill, prefill),
        decode: Math.min(best.decode, (performance.now() - t0) / 32),
      };
    }
    rows.push(
      `| ${name} | ${fmt((1000 * prompt.length) / best.prefill)} | ${fmt(1000 / best.decode)} |`,
    );
    return best;
  };
  const module = await (wasmModule ??= loadKernelsModule());
  const wasmModels = await Promise.all(
    [0, 1, 2].map(() => WasmDeepSeekModel.load(module, files, { maxSeqLen: 128 })),
  );
  let i = 0;
  const wasm = measure('wasm-simd (FP8 weights, f32)', () => wasmModels[i++]);
  const weights = loadDeepSeekModel(files);
  const ref = measure(
    'float64 reference (dequantized f32 weights)',
    () => new DeepSeekReferenceModel(weights, { maxSeqLen: 128 }),
  );
  rows.push(
    `| wasm / reference | ${fmt(ref.prefill / wasm.prefill)}× | ${fmt(ref.decode / wasm.decode)}× |`,
  );
  return rows;
}

export async function benchQuant(opts: QuantBenchOptions = {}): Promise<string> {
  const { batchMs = 150, batches = 5 } = opts;
  const load0 = loadavg()[0];
  // Limits are measured before and after the kernels and the best kept: on a shared machine a single
  // measurement can land in a busy moment and make every fraction look better than it is.
  const limits = await measureLimits(batchMs, batches);
  const out: string[] = [];
  const kernelRows: Row[] = [];
  const shapes: [number, number, number][] = [
    [2048, 2048, 1],
    [4096, 4096, 1],
    [2048, 2048, 4],
    [2048, 2048, 64],
  ];
  for (const [rows, cols, n] of shapes) {
    const subjects = [
      f32Subject(rows, cols, n),
      quantSubject(n === 1 ? 'matvecQ8' : 'matmulQ8', rows, cols, n),
      quantSubject(n === 1 ? 'matvecQ4' : 'matmulQ4', rows, cols, n),
      quantSubject(n === 1 ? 'matvecFp8' : 'matmulFp8', rows, cols, n),
    ];
    for (const s of subjects) {
      for (const mode of ['hot', 'cold'] as const) {
        kernelRows.push(await run(s, mode, batchMs, batches));
      }
    }
  }
  const after = await measureLimits(batchMs, batches);
  for (const k of Object.keys(limits) as (keyof Limits)[])
    limits[k] = Math.max(limits[k], after[k]);
  out.push(
    `Load average ${fmt(load0, 1)} at start, ${fmt(loadavg()[0], 1)} at end (${cpus().length} cores); each number is the fastest of ${batches} batches.`,
    '',
    '| machine limit (one core, wasm-simd) | value |',
    '| --- | ---: |',
    `| streaming read, 256 MiB (DRAM) | ${fmt(limits.readDram)} GB/s |`,
    `| streaming read, 256 KiB (L2) | ${fmt(limits.readL2)} GB/s |`,
    `| f32x4 mul/add peak (12 independent chains) | ${fmt(limits.f32Peak)} GFLOP/s |`,
    `| i32x4.dot_i16x8_s peak (8 chains + add) | ${fmt(limits.dotPeak)} G multiply-adds/s (${fmt(2 * limits.dotPeak)} GOP/s) |`,
    '',
    'GB/s counts the bytes a call must read (weights, codes + scales, activations) and write; % DRAM is the',
    'cold rate over the streaming read; % peak is GFLOP/s over the peak of the arithmetic the kernel runs on',
    '(f32 and fp8: f32x4 mul/add; q8/q4: 2 × the i16 dot multiply-adds).',
    '',
    '| kernel | shape | cache | GFLOP/s | GB/s | % DRAM read | % peak |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: |',
  );
  for (const r of kernelRows) {
    const gbs = r.bytes / r.secs / 1e9,
      gflops = r.flops / r.secs / 1e9;
    const peak = (r.peak === 'f32' ? limits.f32Peak : 2 * limits.dotPeak) * 1e9;
    const dram = r.mode === 'cold' ? pct(gbs / limits.readDram) : '';
    out.push(
      `| ${r.kernel} | ${r.shape} | ${r.mode} | ${fmt(gflops)} | ${fmt(gbs)} | ${dram} | ${pct((gflops * 1e9) / peak)} |`,
    );
  }
  out.push(
    '',
    'Integer dot (int8 activations, i32x4.dot_i16x8_s) vs float dequant (codes → f32, f32 x), weight GB/s:',
    '',
    '| kernel | shape | cache | int dot GB/s | float dequant GB/s | int / float |',
    '| --- | --- | --- | ---: | ---: | ---: |',
    ...(await intVsFloat(4096, 4096, batchMs, batches)),
  );
  out.push(
    '',
    'Synthetic DeepSeek-V3 (hidden 256, 4 layers, 16 experts top-4, FP8 128×128 blocks): 64-token prompt, then 32 decode steps:',
    '',
    '| model | prefill tok/s | decode tok/s |',
    '| --- | ---: | ---: |',
    ...(await deepSeekRows()),
  );
  return out.join('\n');
}

/** Batched q8/q4 matmuls of one stories110M layer (wq/wk/wv/wo 768×768, w1/w3 2048×768, w2 768×2048) at a
 * 32-token chunk, then the engine's 512-token prefill and 64-token greedy decode of the stories110M q8/q4 models;
 * one row per wasm file, the files interleaved. */
export async function benchBatched(wasmFiles: string[]): Promise<string> {
  const { ensureModelDir } = await import('./edge-models');
  const { STORIES110M_SHAPE } = await import('../engine/index');
  const { loadModelDir } = await import('../engine/llama/model-dir');
  const { readModelDir } = await import('../tools/model-files');
  const modules = await Promise.all(wasmFiles.map((f) => WebAssembly.compile(readFileSync(f))));
  const n = 32,
    layer: [number, number, number][] = [
      [768, 768, 4],
      [2048, 768, 2],
      [768, 2048, 1],
    ]; // rows, cols, per layer
  const { dotPeak } = await measureLimits(100, 5);
  const macs = n * layer.reduce((m, [rows, cols, times]) => m + rows * cols * times, 0);
  const lines = [
    `Load average ${fmt(loadavg()[0], 1)} at start; i32x4.dot_i16x8_s peak ${fmt(dotPeak)} G multiply-adds/s (bench_peak_dot).`,
    '',
    '| kernels.wasm | weights | layer matmuls, 32 tokens (ms) | G multiply-adds/s (% of dot peak) | matmul tok/s (12 layers) | prefill tok/s (512 tokens, best of 3) | decode tok/s (64 tokens, best of 3) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const fmtName of ['q8', 'q4'] as const) {
    const rand = prng(7);
    const data = layer.map(([rows, cols]) => ({
      q: (fmtName === 'q8' ? quantizeQ8_0 : quantizeQ4_0)(
        Float32Array.from({ length: rows * cols }, () => rand() * 2 - 1),
        rows,
        cols,
      ),
      x: Float32Array.from({ length: n * cols }, () => rand() * 2 - 1),
    }));
    const layerCalls = await Promise.all(
      modules.map(async (m) => {
        const k = await createWasmKernels(m),
          quant = k.quant!,
          bytes = k.bytes!;
        const fn = fmtName === 'q8' ? quant.matmulQ8 : quant.matmulQ4;
        const calls = layer.map(([rows, cols, times], j) => {
          const { q, x } = data[j];
          const wp = k.alloc(Math.ceil(q.q.byteLength / 4)),
            dp = k.alloc(Math.ceil(q.d.byteLength / 4));
          bytes(wp, q.q.byteLength).set(q.q);
          bytes(dp, q.d.byteLength).set(new Uint8Array(q.d.buffer, q.d.byteOffset, q.d.byteLength));
          const xp = k.alloc(n * cols),
            xq = k.alloc(Math.ceil(quantScratchBytes(cols, n) / 4)),
            op = k.alloc(n * rows);
          k.write(xp, x);
          return () => {
            for (let i = 0; i < times; i++) fn(op, wp, dp, xp, xq, rows, cols, n);
          };
        });
        return () => {
          for (const c of calls) c();
        };
      }),
    );
    const best = modules.map(() => Infinity);
    for (let rep = 0; rep < 7; rep++)
      layerCalls.forEach((c, i) => {
        best[i] = Math.min(best[i], time(c, 100, 1));
      });
    const dir = ensureModelDir(`stories110M-${fmtName}`, STORIES110M_SHAPE, fmtName);
    const models = [];
    for (const m of modules)
      models.push(
        (await loadModelDir(await createWasmKernels(m), readModelDir(dir), { maxSessions: 1 }))
          .model,
      );
    const long = Array.from({ length: 512 }, (_, i) => (i === 0 ? 1 : 300 + ((i * 131) % 30000)));
    const prefill = modules.map(() => 0),
      decode = modules.map(() => 0);
    const opts = { temperature: 0, topP: 1, stopAtEos: false };
    for (let r = 0; r < 3; r++) {
      for (let i = 0; i < models.length; i++) {
        let t0 = performance.now();
        for await (const _ of models[i].generate(long, { ...opts, maxTokens: 1 })) void _;
        prefill[i] = Math.max(prefill[i], 512 / ((performance.now() - t0) / 1000));
        let count = 0;
        for await (const _ of models[i].generate([1, 400, 500], { ...opts, maxTokens: 65 }))
          if (count++ === 0) t0 = performance.now();
        decode[i] = Math.max(decode[i], (count - 1) / ((performance.now() - t0) / 1000));
      }
    }
    wasmFiles.forEach((f, i) =>
      lines.push(
        `| ${f} | ${fmtName} | ${fmt(best[i] * 1000, 2)} | ${fmt(macs / best[i] / 1e9)} (${pct(macs / best[i] / 1e9 / dotPeak)}) | ${fmt(n / (best[i] * 12))} | ${fmt(prefill[i])} | ${fmt(decode[i])} |`,
      ),
    );
  }
  return lines.join('\n');
}

/** Decode (one token) Q8_0 (or Q4_0) matvecs of stories110M (one layer's seven, and the 32000×768 classifier), hot,
 * with each wasm file's bound matvecQ8/Q4 (kernels-relaxed.wasm binds its relaxed kernels); skips a file Node can't
 * validate. */
export async function benchMatvec(
  wasmFiles: string[],
  format: 'q8' | 'q4' = 'q8',
): Promise<string> {
  const quantize = format === 'q8' ? quantizeQ8_0 : quantizeQ4_0;
  const usable = wasmFiles.filter((f) => WebAssembly.validate(readFileSync(f)));
  const modules = await Promise.all(usable.map((f) => WebAssembly.compile(readFileSync(f))));
  const shapes: [string, number, number, number][] = [
    ['layer (4×768², 2×2048×768, 768×2048)', 768, 768, 4],
    ['', 2048, 768, 2],
    ['', 768, 2048, 1],
    ['classifier 32000×768', 32000, 768, 1],
  ];
  const rand = prng(7);
  const data = shapes.map(([, rows, cols]) => ({
    q: quantize(
      Float32Array.from({ length: rows * cols }, () => rand() * 2 - 1),
      rows,
      cols,
    ),
    x: Float32Array.from({ length: cols }, () => rand() * 2 - 1),
  }));
  const calls = await Promise.all(
    modules.map(async (m) => {
      const k = await createWasmKernels(m),
        quant = k.quant!,
        bytes = k.bytes!,
        mv = format === 'q8' ? quant.matvecQ8 : quant.matvecQ4;
      return shapes.map(([, rows, cols, times], j) => {
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
          for (let i = 0; i < times; i++) mv(op, wp, dp, xp, xq, rows, cols);
        };
      });
    }),
  );
  const layer = modules.map(() => Infinity),
    head = modules.map(() => Infinity);
  for (let rep = 0; rep < 7; rep++) {
    calls.forEach((c, i) => {
      layer[i] = Math.min(
        layer[i],
        time(
          () => {
            c[0]();
            c[1]();
            c[2]();
          },
          100,
          1,
        ),
      );
      head[i] = Math.min(head[i], time(c[3], 100, 1));
    });
  }
  const lines = [
    `Load average ${fmt(loadavg()[0], 1)} at start.`,
    '',
    `| kernels.wasm | ${format} layer matvecs (µs) | ${format} classifier matvec (µs) | decode matvec tok/s (12 layers + classifier) |`,
    '| --- | ---: | ---: | ---: |',
  ];
  usable.forEach((f, i) =>
    lines.push(
      `| ${f} | ${fmt(layer[i] * 1e6, 1)} | ${fmt(head[i] * 1e6, 1)} | ${fmt(1 / (12 * layer[i] + head[i]))} |`,
    ),
  );
  for (const f of wasmFiles.filter((f) => !usable.includes(f)))
    lines.push(`| ${f} | not valid here | | |`);
  return lines.join('\n');
}

/** f32x4.relaxed_madd (kernels-relaxed.wasm) vs f32x4.mul + add: register-only peaks, and the f32 matmul's 4×2 tile on
 * stories110M's layer shapes at a 32-token chunk (`matmul` of kernels.wasm vs bench_matmul_fma, interleaved, best of 7). */
export async function benchFma(): Promise<string> {
  const load = async (name: string) =>
    (
      await WebAssembly.instantiate(
        await WebAssembly.compile(
          readFileSync(new URL(`../kernels-wasm/build/${name}.wasm`, import.meta.url)),
        ),
        {
          env: {
            abort: () => {
              throw new Error('kernels aborted');
            },
          },
        },
      )
    ).exports as unknown as RawExports;
  const plain = await load('kernels'),
    relaxed = await load('kernels-relaxed');
  const best = (f: () => void, reps = 7) => {
    let b = Infinity;
    for (let i = 0; i < reps; i++) b = Math.min(b, time(f, 100, 1));
    return b;
  };
  const iters = 1e6;
  const mulAdd = (48 * iters) / best(() => plain.bench_peak_f32(iters, 1, 0)) / 1e9;
  const fma = (96 * iters) / best(() => relaxed.bench_peak_fma(iters, 1, 0)) / 1e9;
  const n = 32,
    layer: [number, number, number][] = [
      [768, 768, 4],
      [2048, 768, 2],
      [768, 2048, 1],
    ];
  const rand = prng(9);
  const setup = (x: RawExports) => {
    let top = Math.ceil(x.heapBase() / 64) * 64;
    const alloc = (floats: number) => {
      const p = top;
      top = Math.ceil((top + 4 * floats) / 64) * 64;
      if (top > x.memory.buffer.byteLength)
        x.memory.grow(Math.ceil((top - x.memory.buffer.byteLength) / 65536));
      return p;
    };
    return layer.map(([rows, cols, times]) => {
      const w = alloc(rows * cols),
        xp = alloc(n * cols),
        o = alloc(n * rows);
      new Float32Array(x.memory.buffer, w, rows * cols).set(
        Float32Array.from({ length: rows * cols }, () => rand() * 2 - 1),
      );
      new Float32Array(x.memory.buffer, xp, n * cols).set(
        Float32Array.from({ length: n * cols }, () => rand() * 2 - 1),
      );
      return { rows, cols, times, w, xp, o };
    });
  };
  const a = setup(plain),
    b = setup(relaxed);
  const run = (x: RawExports, fn: string, shapes: ReturnType<typeof setup>) => () => {
    for (const s of shapes)
      for (let i = 0; i < s.times; i++) x[fn](s.o, s.w, s.xp, s.rows, s.cols, n);
  };
  let tMul = Infinity,
    tFma = Infinity;
  for (let rep = 0; rep < 7; rep++) {
    tMul = Math.min(tMul, time(run(plain, 'matmul', a), 100, 1));
    tFma = Math.min(tFma, time(run(relaxed, 'bench_matmul_fma', b), 100, 1));
  }
  const flops = 2 * n * layer.reduce((f, [r, c, t]) => f + r * c * t, 0);
  return [
    `Load average ${fmt(loadavg()[0], 1)} at start.`,
    '',
    '| f32 arithmetic | register peak (GFLOP/s) | stories110M layer matmuls, 32 tokens (ms) | GFLOP/s | % of mul+add peak |',
    '| --- | ---: | ---: | ---: | ---: |',
    `| f32x4.mul + f32x4.add (kernels.wasm, \`matmul\`) | ${fmt(mulAdd)} | ${fmt(tMul * 1000, 2)} | ${fmt(flops / tMul / 1e9)} | ${pct(flops / tMul / 1e9 / mulAdd)} |`,
    `| f32x4.relaxed_madd (kernels-relaxed.wasm, bench_matmul_fma) | ${fmt(fma)} | ${fmt(tFma * 1000, 2)} | ${fmt(flops / tFma / 1e9)} | ${pct(flops / tFma / 1e9 / mulAdd)} |`,
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--batched'),
    j = process.argv.indexOf('--matvec');
  if (process.argv.includes('--fma')) console.log(await benchFma());
  else if (j >= 0) {
    const files = process.argv.slice(j + 1).filter((a) => a !== '--q4');
    console.log(
      await benchMatvec(
        files.length
          ? files
          : ['kernels', 'kernels-relaxed'].map(
              (b) => new URL(`../kernels-wasm/build/${b}.wasm`, import.meta.url).pathname,
            ),
        process.argv.includes('--q4') ? 'q4' : 'q8',
      ),
    );
  } else if (i < 0) console.log(await benchQuant());
  else {
    const files = process.argv.slice(i + 1);
    console.log(
      await benchBatched(
        files.length
          ? files
          : [new URL('../kernels-wasm/build/kernels.wasm', import.meta.url).pathname],
      ),
    );
  }
}
