// WebGPU benchmark: copy bandwidth, the one table's `bench` cases with a WGSL kernel (FP8 GEMV/GEMM,
// LM head, f32 matvec/matmul) as GB/s and GFLOP/s, and decode steps of synthetic DeepSeek-V3-shaped
// models at batch 1/4/16. Picks the high-performance adapter (a real GPU over lavapipe). Run alone: tsx bench/gpu.ts [--quick]
// Env: BENCH_GPU_MODELS=tiny,medium (default: tiny on a fallback adapter, tiny+medium on real hardware).
import { pathToFileURL } from 'node:url';
import { SYNTHETIC_DEEPSEEK_CONFIG } from '../engine/deepseek/synthetic';
import { GpuDeepSeekBackend } from '../kernels-gpu/deepseek-backend';
import { describeGpu, requestGpu, type Gpu } from '../kernels-gpu/device';
import { storageBuffer } from '../kernels-gpu/kernel';
import { caseHost, type Case, type GpuPrepared } from '../tests/ops/case';
import { table } from '../tests/ops/table';
import { BENCH_MEDIUM_CONFIG, benchConfig, randomDeepSeekWeights } from './gpu-weights';

export interface GpuBenchOptions {
  /** Fewer repetitions (a smoke run). */
  quick?: boolean;
  models?: ('tiny' | 'medium')[];
  log?: (line: string) => void;
}

/** Seconds per run of `encode`: dispatches batched `reps` per submit, best of `rounds` submits. */
async function timeEncode(
  gpu: Gpu,
  encode: (pass: GPUComputePassEncoder, i: number) => void,
  budgetS: number,
  rounds: number,
): Promise<number> {
  const run = async (reps: number) => {
    const enc = gpu.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    for (let i = 0; i < reps; i++) encode(pass, i);
    pass.end();
    const t0 = performance.now();
    gpu.device.queue.submit([enc.finish()]);
    await gpu.device.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / 1000 / reps;
  };
  await run(1); // warm-up: pipeline compiles, first-use costs
  const reps = Math.max(1, Math.min(500, Math.round(budgetS / rounds / (await run(1)))));
  let best = Infinity;
  for (let r = 0; r < rounds; r++) best = Math.min(best, await run(reps));
  return best;
}

/** Device copy bandwidth (read + write bytes per second) over a buffer larger than any cache. */
async function copyBandwidth(gpu: Gpu, bytes: number, quick: boolean): Promise<number> {
  const a = storageBuffer(gpu, bytes, 'bw.a'),
    b = storageBuffer(gpu, bytes, 'bw.b');
  const time = async (reps: number) => {
    const enc = gpu.device.createCommandEncoder();
    for (let i = 0; i < reps; i++)
      enc.copyBufferToBuffer(i % 2 ? b : a, 0, i % 2 ? a : b, 0, bytes);
    const t0 = performance.now();
    gpu.device.queue.submit([enc.finish()]);
    await gpu.device.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / 1000 / reps;
  };
  await time(1);
  let best = Infinity;
  for (let r = 0; r < (quick ? 2 : 5); r++) best = Math.min(best, await time(quick ? 2 : 10));
  a.destroy();
  b.destroy();
  return (2 * bytes) / best;
}

async function kernelRows(
  gpu: Gpu,
  cases: Case[],
  coldBytes: number,
  o: Required<GpuBenchOptions>,
): Promise<string[]> {
  const rows: string[] = [];
  for (const c of cases) {
    // Enough copies that every call reads its weights from DRAM, not a cache.
    const copies = Math.max(1, Math.min(8, Math.ceil(coldBytes / c.bytes)));
    const prepared: GpuPrepared[] = [],
      host = caseHost(c);
    for (let i = 0; i < copies; i++) prepared.push(await c.spec.gpu!(gpu, host, c.shape));
    const s = await timeEncode(
      gpu,
      (pass, i) => prepared[i % copies].encode(pass),
      o.quick ? 0.1 : 0.5,
      o.quick ? 2 : 5,
    );
    rows.push(
      `| ${c.name} | ${(s * 1e3).toFixed(3)} | ${(c.bytes / s / 1e9).toFixed(1)} | ${(c.flops / s / 1e9).toFixed(1)} |`,
    );
    o.log(`  ${c.name}: ${(s * 1e6).toFixed(1)} µs`);
  }
  return rows;
}

/** ms per decode step (one token per sequence, logits read back) with `batch` sequences at ~32 positions. */
async function decodeRows(
  gpu: Gpu,
  model: 'tiny' | 'medium',
  o: Required<GpuBenchOptions>,
): Promise<string[]> {
  const config = benchConfig(model === 'tiny' ? SYNTHETIC_DEEPSEEK_CONFIG : BENCH_MEDIUM_CONFIG);
  const t0 = performance.now();
  const backend = await GpuDeepSeekBackend.create(randomDeepSeekWeights(config), {
    gpu,
    maxSlots: 16,
    maxSeqLen: 256,
    maxStepTokens: 64,
  });
  o.log(
    `  ${model}: ${(backend.gpuBytes / 2 ** 20).toFixed(0)} MiB on the GPU, ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const rows: string[] = [],
    prompt = Array.from({ length: 32 }, (_, i) => (i * 7 + 1) % config.vocabSize);
  for (const batch of [1, 4, 16]) {
    const slots = Array.from({ length: batch }, () => backend.allocate()!);
    for (let i = 0; i < batch; i += 2) {
      await backend.step(
        slots
          .slice(i, i + 2)
          .map((slot) => ({ slot, tokens: prompt, startPos: 0, wantLogits: false })),
      );
    }
    let pos = prompt.length;
    const step = () =>
      backend
        .step(
          slots.map((slot) => ({
            slot,
            tokens: [pos % config.vocabSize],
            startPos: pos,
            wantLogits: true,
          })),
        )
        .then(() => pos++);
    for (let i = 0; i < 4; i++) await step(); // warm-up: first-use costs of a new batch shape
    const n = o.quick ? 3 : 12,
      start = performance.now();
    for (let i = 0; i < n; i++) await step();
    const ms = (performance.now() - start) / n;
    rows.push(`| ${model} | ${batch} | ${ms.toFixed(2)} | ${((batch * 1000) / ms).toFixed(0)} |`);
    o.log(`  ${model} batch ${batch}: ${ms.toFixed(2)} ms/step`);
    slots.forEach((s) => backend.free(s));
  }
  backend.destroy();
  return rows;
}

/** The benchmark as markdown. */
export async function benchGpu(opts: GpuBenchOptions = {}): Promise<string> {
  const gpu = await requestGpu({ powerPreference: 'high-performance' });
  const fallback =
    gpu.adapter.isFallbackAdapter ||
    gpu.adapter.architecture === 'software' ||
    /llvmpipe|swiftshader/i.test(gpu.adapter.description);
  const envModels = process.env.BENCH_GPU_MODELS?.split(',').filter(Boolean) as
    ('tiny' | 'medium')[] | undefined;
  const o: Required<GpuBenchOptions> = {
    quick: opts.quick ?? false,
    models: opts.models ?? envModels ?? (fallback ? ['tiny'] : ['tiny', 'medium']),
    log: opts.log ?? (() => {}),
  };
  const out: string[] = [
    `WebGPU on ${describeGpu(gpu)}; features: ${[...gpu.features].join(', ') || 'none'}.`,
    '',
  ];
  const limit = gpu.device.limits.maxStorageBufferBindingSize;
  const bwBytes = Math.min(fallback ? 64 * 2 ** 20 : 1024 * 2 ** 20, limit);
  o.log('copy bandwidth');
  const bw = await copyBandwidth(gpu, bwBytes, o.quick);
  out.push(
    `Device copy bandwidth (copyBufferToBuffer, ${bwBytes / 2 ** 20} MiB, read + write): **${(bw / 1e9).toFixed(1)} GB/s**.`,
    '',
  );

  o.log('kernels');
  const onGpu = (c: Case) => c.spec.gpu && !c.spec.gpuLacks?.(c.shape);
  const cases = table.filter((c) => c.bench && onGpu(c) && (!fallback || c.test || !o.quick));
  out.push('| case | ms | GB/s | GFLOP/s |', '| --- | ---: | ---: | ---: |');
  out.push(...(await kernelRows(gpu, cases, fallback ? 0 : 256 * 2 ** 20, o)));
  const gemv = cases.filter((c) => c.op === 'fp8-gemv');
  if (gemv.length)
    out.push(
      '',
      `(GB/s counts FP8 weights once + scales + f32 activations in and out; copy bandwidth above is the ceiling.)`,
    );

  out.push('', '| model | batch | ms / decode step | tokens/s |', '| --- | ---: | ---: | ---: |');
  for (const m of o.models) {
    o.log(`decode ${m}`);
    out.push(...(await decodeRows(gpu, m, o)));
  }
  out.push(
    '',
    `tiny: the synthetic test model (hidden ${SYNTHETIC_DEEPSEEK_CONFIG.hiddenSize}, ${SYNTHETIC_DEEPSEEK_CONFIG.numHiddenLayers} layers, ${SYNTHETIC_DEEPSEEK_CONFIG.nRoutedExperts} experts top-${SYNTHETIC_DEEPSEEK_CONFIG.numExpertsPerTok}); medium: hidden ${BENCH_MEDIUM_CONFIG.hiddenSize}, ${BENCH_MEDIUM_CONFIG.numHiddenLayers} layers, ${BENCH_MEDIUM_CONFIG.nRoutedExperts} experts top-${BENCH_MEDIUM_CONFIG.numExpertsPerTok}, MLA latent ${BENCH_MEDIUM_CONFIG.kvLoraRank}; random FP8 weights, W8A8, 32-token prompts, logits read back every step.`,
  );
  return out.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchGpu({ quick: process.argv.includes('--quick'), log: (l) => console.error(l) }).then(
    (md) => {
      console.log(md);
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
