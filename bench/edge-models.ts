// Edge models, measured: (1) peak memory of loading and running a ~100M-parameter q8 and a ~200M q4
// model inside workerd (Miniflare, the Worker runtime), as the rise of the workerd process's peak RSS
// over its baseline; (2) single-thread decode and 512-token prefill tok/s of f32/q8/q4 on llama2.c's
// stories15M/110M shapes (Node, the same WASM kernels), with ratios to llama2.c run.c native
// timed in the same run (bench/runc.ts).
//   tsx bench/edge-models.ts [--memory-only | --speed-only]
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { Miniflare, convertV4MiniflareOptions } from 'miniflare';
import {
  type LlamaModel,
  syntheticLlama2cCheckpoint,
  syntheticLlama2cTokenizer,
  STORIES110M_SHAPE,
  STORIES15M_SHAPE,
  type SyntheticShape,
} from '../engine/index';
import { importLlama2c } from '../engine/formats/import-llama2c';
import { llamaParamCount } from '../engine/formats/hf-tensors';
import type { QuantTarget } from '../engine/formats/hf-writer';
import { planModelDir } from '../engine/formats/model-dir-writer';
import { loadModelDir } from '../engine/llama/model-dir';
import { llamaConfig } from '../engine/llama/config';
import { createNodeKernels } from '../kernels-wasm/node';
import { readModelDir, writeModelDir } from '../tools/model-files';
import { repoRoot } from '../tools/paths';
import { runcAnchor } from './runc';

const MODELS_DIR = join(repoRoot, 'bench/.models');
const MIB = 2 ** 20;

/** ~100M parameters (GQA 12/4, tied 32k embedding) and ~190M (16/4 heads, 14 layers). */
export const MEMORY_MODELS: {
  name: string;
  shape: SyntheticShape;
  quant: QuantTarget;
  context: number;
  /** Prompt tokens before the 16 generated (default 64); filling the context touches its whole KV cache. */
  prompt?: number;
}[] = [
  {
    name: 'edge-100m-q8',
    shape: {
      dim: 768,
      hiddenDim: 2048,
      nLayers: 12,
      nHeads: 12,
      nKvHeads: 4,
      vocabSize: 32000,
      seqLen: 256,
    },
    quant: 'q8',
    context: 256,
  },
  {
    // the same model at context 2048: over 1024 the engine keeps its KV cache in int8 (engine/llama/kv-cache.ts),
    // and a 2016-token prompt fills it so that its pages are resident, not just reserved
    name: 'edge-100m-q8-ctx2048',
    shape: {
      dim: 768,
      hiddenDim: 2048,
      nLayers: 12,
      nHeads: 12,
      nKvHeads: 4,
      vocabSize: 32000,
      seqLen: 2048,
    },
    quant: 'q8',
    context: 2048,
    prompt: 2016,
  },
  {
    name: 'edge-190m-q4',
    shape: {
      dim: 1024,
      hiddenDim: 2816,
      nLayers: 14,
      nHeads: 16,
      nKvHeads: 4,
      vocabSize: 32000,
      seqLen: 256,
    },
    quant: 'q4',
    context: 256,
  },
];

const params = (s: SyntheticShape) => llamaParamCount(llamaConfig(s));

/** The model directory, generated (random weights, seed 1) the first time. */
export function ensureModelDir(name: string, shape: SyntheticShape, quant: QuantTarget): string {
  const dir = join(MODELS_DIR, name);
  if (existsSync(join(dir, 'model.safetensors'))) return dir;
  const imported = importLlama2c(
    syntheticLlama2cCheckpoint(shape, 1),
    syntheticLlama2cTokenizer(shape.vocabSize),
  );
  writeModelDir(dir, planModelDir(imported, quant));
  return dir;
}

/** The workerd process Miniflare started (a child of this process). */
export function workerdPid(): number {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').trim();
      const [, comm, rest] = /^\d+ \((.*)\) (.*)$/.exec(stat)!;
      if (comm === 'workerd' && Number(rest.split(' ')[1]) === process.pid) return Number(pid);
    } catch {
      // a process that ended while we looked
    }
  }
  throw new Error('no workerd child process found');
}

export function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)![1]) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** A bench Worker (default bench/edge-models-worker.ts) bundled for workerd, kernels.wasm beside it. */
export async function bundleWorker(entry = 'bench/edge-models-worker.ts'): Promise<string> {
  const out = await build({
    entryPoints: [join(repoRoot, entry)],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    external: ['*.wasm'],
    write: false,
    logLevel: 'error',
  });
  return out.outputFiles[0].text.replace(
    /from\s*["'][^"']*kernels\.wasm["']/,
    'from "./kernels.wasm"',
  );
}

/** The build a bench Worker's `./kernels.wasm` import gets: worker/index.ts imports kernels-relaxed.wasm. */
export type KernelsBuild = 'kernels' | 'kernels-relaxed';

/** A bundled bench Worker in a fresh workerd (Miniflare), an R2 bucket MODELS bound (in memory, or on disk at `persist`). */
export function startBenchWorker(
  script: string,
  opts: { kernels?: KernelsBuild; persist?: string } = {},
): Miniflare {
  const { kernels = 'kernels', persist } = opts;
  return new Miniflare(
    convertV4MiniflareOptions({
      modules: [
        { type: 'ESModule', path: 'worker.mjs', contents: script },
        {
          type: 'CompiledWasm',
          path: 'kernels.wasm',
          contents: readFileSync(join(repoRoot, `kernels-wasm/build/${kernels}.wasm`)),
        },
      ],
      compatibilityDate: '2026-08-01',
      compatibilityFlags: ['nodejs_compat'],
      r2Buckets: ['MODELS'],
      ...(persist ? { resourcePersistencePath: persist } : {}),
    }),
  );
}

/** Bytes Miniflare's R2 proxy takes in one call: it sends them base64 in one string, which Node caps at 512 MiB. */
const PUT_PART = 64 * MIB;

/** A file into Miniflare's R2, in parts of PUT_PART when bigger (a 440 MB f32 model is over the proxy's limit). */
async function putFile(
  bucket: Awaited<ReturnType<Miniflare['getR2Bucket']>>,
  key: string,
  bytes: Buffer,
): Promise<void> {
  if (bytes.byteLength <= PUT_PART) {
    await bucket.put(key, bytes);
    return;
  }
  const upload = await bucket.createMultipartUpload(key);
  const parts = [];
  for (let at = 0, n = 1; at < bytes.byteLength; at += PUT_PART, n++)
    parts.push(await upload.uploadPart(n, bytes.subarray(at, at + PUT_PART)));
  await upload.complete(parts);
}

/** A model directory imported from llama2.c (tokenizer.bin) put in R2 as `<id>/<file>`, with its hf manifest. */
export async function putModelDir(
  mf: Miniflare,
  id: string,
  dir: string,
  manifest: { context_length: number; max_sessions?: number },
): Promise<void> {
  const bucket = await mf.getR2Bucket('MODELS');
  for (const f of readdirSync(dir)) await putFile(bucket, `${id}/${f}`, readFileSync(join(dir, f)));
  const full = {
    id,
    format: 'hf',
    weights: ['model.safetensors'],
    tokenizer: 'tokenizer.bin',
    tokenizer_config: 'tokenizer_config.json',
    max_sessions: 1,
    created: 0,
    ...manifest,
  };
  await bucket.put(`${id}/model.json`, JSON.stringify(full));
}

export interface MemoryResult {
  name: string;
  params: number;
  weightFileBytes: number;
  baseline: number;
  peakLoad: number;
  peakGenerate: number;
  wasmBytes: number;
  generated: number;
  prompt: number;
  loadSeconds: number;
  /** Control: the peak rise of streaming the weights out of R2 and dropping them. */
  streamRise: number;
}

/** Loads each model in a fresh workerd and reports how far the process's peak RSS rose above its baseline. */
export async function measureMemory(
  log: (line: string) => void = () => {},
): Promise<MemoryResult[]> {
  const script = await bundleWorker();
  const results: MemoryResult[] = [];
  for (const m of MEMORY_MODELS) {
    log(`memory: ${m.name} (${(params(m.shape) / 1e6).toFixed(0)}M params, ${m.quant})`);
    const dir = ensureModelDir(m.name, m.shape, m.quant);
    const mf = startBenchWorker(script);
    try {
      await putModelDir(mf, m.name, dir, { context_length: m.context });
      await (await mf.dispatchFetch('http://bench/noop')).text();
      const pid = workerdPid();
      let baseline = memoryOf(pid).rss;
      resetPeak(pid);
      await (await mf.dispatchFetch(`http://bench/stream?model=${m.name}`)).json();
      const streamRise = memoryOf(pid).hwm - baseline;
      baseline = memoryOf(pid).rss;
      resetPeak(pid);
      const started = performance.now();
      const load = (await (await mf.dispatchFetch(`http://bench/load?model=${m.name}`)).json()) as {
        wasmBytes: number;
      };
      const loadSeconds = (performance.now() - started) / 1000;
      const peakLoad = memoryOf(pid).hwm;
      const run = (await (
        await mf.dispatchFetch(
          `http://bench/generate?model=${m.name}&prompt=${m.prompt ?? 64}&tokens=16`,
        )
      ).json()) as { ids: number[]; wasmBytes: number };
      const peakGenerate = memoryOf(pid).hwm;
      const weightFileBytes = readFileSync(join(dir, 'model.safetensors')).byteLength;
      results.push({
        name: m.name,
        params: params(m.shape),
        weightFileBytes,
        baseline,
        peakLoad,
        peakGenerate,
        streamRise,
        wasmBytes: Math.max(load.wasmBytes, run.wasmBytes),
        generated: run.ids.length,
        prompt: m.prompt ?? 64,
        loadSeconds,
      });
    } finally {
      await mf.dispose();
    }
  }
  return results;
}

/** Resets the process's peak RSS (VmHWM) to its current RSS (Linux clear_refs 5). */
export function resetPeak(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // without permission the peak includes the setup, which only overstates it
  }
}

export function memoryTable(rows: MemoryResult[]): string {
  const lines = [
    '| model | params | weights file | WASM memory | workerd RSS: baseline → peak (load / +generate) | rise over baseline | R2 streaming alone (control) | load time | prompt + generated | fits 128 MB |',
    '| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of rows) {
    const rise = Math.max(r.peakLoad, r.peakGenerate) - r.baseline;
    lines.push(
      `| ${r.name} | ${(r.params / 1e6).toFixed(1)}M | ${(r.weightFileBytes / MIB).toFixed(1)} MiB | ${(r.wasmBytes / MIB).toFixed(1)} MiB | ` +
        `${(r.baseline / MIB).toFixed(0)} → ${(r.peakLoad / MIB).toFixed(0)} / ${(r.peakGenerate / MIB).toFixed(0)} MiB | ${(rise / MIB).toFixed(1)} MiB | ` +
        `${(r.streamRise / MIB).toFixed(1)} MiB | ${r.loadSeconds.toFixed(1)} s | ${r.prompt} + ${r.generated} tokens | ${rise <= 128 * MIB ? 'yes' : 'no'} |`,
    );
  }
  return lines.join('\n');
}

export interface SpeedResult {
  shape: string;
  quant: QuantTarget;
  decode: number;
  prefill: number;
  /** run.c native f32 decode, timed in this run beside each of ours (best), and the per-run ratios; null when run.c is absent. */
  runc: { decode: number; ratios: number[] } | null;
}

const SPEED_SHAPES = [
  { name: 'stories15M', shape: { ...STORIES15M_SHAPE, seqLen: 1024 } },
  { name: 'stories110M', shape: STORIES110M_SHAPE },
];

const LONG_PROMPT = Array.from({ length: 512 }, (_, i) =>
  i === 0 ? 1 : 300 + ((i * 131) % 30000),
);
const GREEDY = { temperature: 0, topP: 1, stopAtEos: false };

/** One prefill (512 tokens) and one 64-token decode: tok/s each. */
async function timeModel(model: LlamaModel): Promise<{ decode: number; prefill: number }> {
  let t0 = performance.now();
  for await (const _ of model.generate(LONG_PROMPT, { ...GREEDY, maxTokens: 1 })) void _;
  const prefill = 512 / ((performance.now() - t0) / 1000);
  let count = 0;
  for await (const _ of model.generate([1, 400, 500], { ...GREEDY, maxTokens: 65 }))
    if (count++ === 0) t0 = performance.now();
  return { decode: (count - 1) / ((performance.now() - t0) / 1000), prefill };
}

/**
 * Decode tok/s (64 tokens after a short prompt) and prefill tok/s of a 512-token prompt; best of `runs`.
 * Each run is paired with a run of llama2.c run.c native on the same shape's f32 checkpoint
 * (bench/runc.ts), the order alternating, so its ratio is of two numbers taken side by side.
 */
export async function measureSpeed(
  opts: { runs?: number; quants?: QuantTarget[]; log?: (line: string) => void } = {},
): Promise<SpeedResult[]> {
  const { runs = 3, quants = ['f32', 'q8', 'q4'], log = () => {} } = opts;
  const results: SpeedResult[] = [];
  for (const { name, shape } of SPEED_SHAPES) {
    const anchor = runcAnchor(name, shape);
    if ('skipped' in anchor) log(`run.c skipped: ${anchor.skipped}`);
    for (const quant of quants) {
      log(`speed: ${name} ${quant}`);
      const dir = ensureModelDir(`${name}-${quant}`, shape, quant);
      const { model } = await loadModelDir(await createNodeKernels(), readModelDir(dir), {
        maxSessions: 1,
      });
      let decode = 0,
        prefill = 0,
        runcBest = 0;
      const ratios: number[] = [];
      for (let r = 0; r < runs; r++) {
        const runcFirst = r % 2 === 1 && 'decode' in anchor;
        const before = runcFirst ? anchor.decode(64) : 0;
        const ours = await timeModel(model);
        const runc = 'decode' in anchor ? (runcFirst ? before : anchor.decode(64)) : 0;
        decode = Math.max(decode, ours.decode);
        prefill = Math.max(prefill, ours.prefill);
        runcBest = Math.max(runcBest, runc);
        if (runc) ratios.push(ours.decode / runc);
      }
      const runc = 'decode' in anchor ? { decode: runcBest, ratios } : null;
      results.push({ shape: name, quant, decode, prefill, runc });
    }
  }
  return results;
}

export function speedTable(rows: SpeedResult[]): string {
  const x = (v: number) => `${v.toFixed(2)}×`;
  const lines = [
    '| shape | weights | decode tok/s | run.c native f32 (same run) | ours / run.c per run | prefill tok/s (512-token prompt) | prefill / decode |',
    '| --- | --- | ---: | ---: | --- | ---: | ---: |',
  ];
  for (const r of rows) {
    const runc = r.runc
      ? `${r.runc.decode.toFixed(1)} | ${r.runc.ratios.map(x).join(', ')}`
      : '– | –';
    lines.push(
      `| ${r.shape} | ${r.quant} | ${r.decode.toFixed(1)} | ${runc} | ${r.prefill.toFixed(1)} | ${(r.prefill / r.decode).toFixed(1)}× |`,
    );
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const log = (line: string) => console.error(line);
  const only = process.argv[2];
  if (only !== '--speed-only') console.log(memoryTable(await measureMemory(log)) + '\n');
  if (only !== '--memory-only') console.log(speedTable(await measureSpeed({ log })));
}
