// Engine benchmark: single-thread decode tok/s of LlamaModel.generate() on synthetic random-weight
// models of the llama2.c stories15M and stories110M shapes (f32), every backend on the same weights,
// and llama2.c run.c native on that checkpoint, timed beside wasm-simd run by run (bench/runc.ts).
// Run alone: tsx bench/engine.ts
import { pathToFileURL } from 'node:url';
import {
  LlamaModel,
  STORIES110M_SHAPE,
  STORIES15M_SHAPE,
  syntheticLlama2cCheckpoint,
  syntheticLlama2cTokenizer,
  type SyntheticShape,
} from '../engine/index';
import { createTsKernels } from '../kernels-wasm/index';
import { createNodeKernels } from '../kernels-wasm/node';
import type { KernelBackend } from '../kernels-wasm/types';
import { runcAnchor } from './runc';

export interface EngineBenchModel {
  name: string;
  shape: SyntheticShape;
  /** Sampled tokens per measured run. */
  decodeTokens: number;
}

export const ENGINE_BENCH_MODELS: EngineBenchModel[] = [
  {
    name: 'stories15M',
    shape: STORIES15M_SHAPE,
    decodeTokens: 128,
  },
  {
    name: 'stories110M',
    shape: STORIES110M_SHAPE,
    decodeTokens: 64,
  },
];

export const ENGINE_BENCH_BACKENDS: [string, () => Promise<KernelBackend>][] = [
  ['wasm-simd', createNodeKernels],
  ['ts-scalar', async () => createTsKernels()],
];

export interface EngineBenchResult {
  model: EngineBenchModel;
  backend: string;
  /** Median decode tok/s over the runs, the best run, and every run. */
  decode: number;
  best: number;
  runs: number[];
  /** Prompt tokens per second (one forward pass each), from the same runs. */
  prefill: number;
  /** wasm-simd only: run.c native decode tok/s of runs paired with ours (order alternating); [] without run.c. */
  runc: number[];
}

const PROMPT = 'Once upon a time, there was a little';

/** One generation; decode rate from the first sampled token to the last (prefill timed apart). */
async function timeGeneration(model: LlamaModel, promptIds: number[], decodeTokens: number) {
  const started = performance.now();
  let first = 0;
  let count = 0;
  for await (const _ of model.generate(promptIds, {
    maxTokens: decodeTokens,
    temperature: 0,
    topP: 1,
    stopAtEos: false,
  })) {
    if (count++ === 0) first = performance.now();
  }
  const end = performance.now();
  return {
    decode: ((count - 1) * 1000) / (end - first),
    prefill: (promptIds.length * 1000) / (first - started),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchEngine(
  opts: { models?: EngineBenchModel[]; runs?: number; log?: (line: string) => void } = {},
) {
  const { models = ENGINE_BENCH_MODELS, runs = 5, log = () => {} } = opts;
  const results: EngineBenchResult[] = [];
  for (const m of models) {
    const checkpoint = syntheticLlama2cCheckpoint(m.shape, 1);
    const tokenizer = syntheticLlama2cTokenizer(m.shape.vocabSize);
    const anchor = runcAnchor(m.name, m.shape);
    if ('skipped' in anchor) log(`run.c skipped: ${anchor.skipped}`);
    for (const [backendName, create] of ENGINE_BENCH_BACKENDS) {
      const model = LlamaModel.fromLlama2c(await create(), checkpoint, tokenizer, {
        id: m.name,
        maxSessions: 1,
      });
      const promptIds = model.tokenizer.encode(PROMPT, { bos: true });
      await timeGeneration(model, promptIds, 8); // warm-up: tier-up, page faults, the session
      const timed = [];
      const runc: number[] = [];
      const paired = backendName === 'wasm-simd' && 'decode' in anchor ? anchor : null;
      for (let r = 0; r < runs; r++) {
        if (paired && r % 2) runc.push(paired.decode(m.decodeTokens));
        timed.push(await timeGeneration(model, promptIds, m.decodeTokens));
        if (paired && !(r % 2)) runc.push(paired.decode(m.decodeTokens));
      }
      const decodes = timed.map((t) => t.decode);
      const result = {
        model: m,
        backend: backendName,
        decode: median(decodes),
        best: Math.max(...decodes),
        runs: decodes,
        prefill: median(timed.map((t) => t.prefill)),
        runc,
      };
      log(
        `${m.name} ${backendName}: ${result.decode.toFixed(1)} tok/s decode (runs ${decodes.map((d) => d.toFixed(1)).join(', ')})`,
      );
      results.push(result);
    }
  }
  return results;
}

/** A markdown table: our backends side by side, ratios against ts-scalar and run.c (measured in the same run). */
export function engineTable(results: EngineBenchResult[]): string {
  const lines = [
    '| model | backend | decode tok/s (median) | best run | prompt tok/s¹ | vs ts-scalar | run.c native (median, same run) | vs run.c per run |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of results) {
    const scalar = results.find((s) => s.model === r.model && s.backend === 'ts-scalar');
    const ratio = (x: number | undefined) => (x ? `${(r.decode / x).toFixed(2)}×` : '–');
    const runc = r.runc.length
      ? `${median(r.runc).toFixed(1)} | ${r.runs.map((o, i) => `${(o / r.runc[i]).toFixed(2)}×`).join(', ')}`
      : '– | –';
    lines.push(
      `| ${r.model.name} | ${r.backend} | ${r.decode.toFixed(1)} | ${r.best.toFixed(1)} | ${r.prefill.toFixed(1)} | ${ratio(scalar?.decode)} | ${runc} |`,
    );
  }
  lines.push(
    '',
    'Ratios to ts-scalar use the medians; run.c (cc -Ofast -march=native, bench/runc.ts) runs beside each wasm-simd run.',
    '',
    '¹ prompt tokens are one forward pass each (no batched prefill yet) and skip the classifier.',
  );
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(engineTable(await benchEngine({ log: (l) => console.error(l) })));
}
