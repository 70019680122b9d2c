// Engine benchmark: single-thread decode tok/s of LlamaModel.generate() on synthetic random-weight
// models of the llama2.c stories15M and stories110M shapes (f32), every backend on the same weights.
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

export interface EngineBenchModel {
  name: string;
  shape: SyntheticShape;
  /** Sampled tokens per measured run. */
  decodeTokens: number;
  /** llama2.c run.c on our 2-core CI machine type, tok/s. */
  reference: { runcNative: number; runcWasm: number };
}

export const ENGINE_BENCH_MODELS: EngineBenchModel[] = [
  {
    name: 'stories15M',
    shape: STORIES15M_SHAPE,
    decodeTokens: 128,
    reference: { runcNative: 282, runcWasm: 188 },
  },
  {
    name: 'stories110M',
    shape: STORIES110M_SHAPE,
    decodeTokens: 64,
    reference: { runcNative: 37.1, runcWasm: 25.3 },
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
    for (const [backendName, create] of ENGINE_BENCH_BACKENDS) {
      const model = LlamaModel.fromLlama2c(await create(), checkpoint, tokenizer, {
        id: m.name,
        maxSessions: 1,
      });
      const promptIds = model.tokenizer.encode(PROMPT, { bos: true });
      await timeGeneration(model, promptIds, 8); // warm-up: tier-up, page faults, the session
      const timed = [];
      for (let r = 0; r < runs; r++)
        timed.push(await timeGeneration(model, promptIds, m.decodeTokens));
      const decodes = timed.map((t) => t.decode);
      const result = {
        model: m,
        backend: backendName,
        decode: median(decodes),
        best: Math.max(...decodes),
        runs: decodes,
        prefill: median(timed.map((t) => t.prefill)),
      };
      log(
        `${m.name} ${backendName}: ${result.decode.toFixed(1)} tok/s decode (runs ${decodes.map((d) => d.toFixed(1)).join(', ')})`,
      );
      results.push(result);
    }
  }
  return results;
}

/** A markdown table: our backends side by side, ratios against the first backend and llama2.c. */
export function engineTable(results: EngineBenchResult[]): string {
  const lines = [
    '| model | backend | decode tok/s (median) | best run | prompt tok/s¹ | vs ts-scalar | vs run.c wasm | vs run.c native |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results) {
    const scalar = results.find((s) => s.model === r.model && s.backend === 'ts-scalar');
    const ratio = (x: number | undefined) => (x ? `${(r.decode / x).toFixed(2)}×` : '–');
    lines.push(
      `| ${r.model.name} | ${r.backend} | ${r.decode.toFixed(1)} | ${r.best.toFixed(1)} | ${r.prefill.toFixed(1)} | ${ratio(scalar?.decode)} | ` +
        `${ratio(r.model.reference.runcWasm)} | ${ratio(r.model.reference.runcNative)} |`,
    );
  }
  for (const m of new Set(results.map((r) => r.model))) {
    lines.push(
      `| ${m.name} | llama2.c run.c wasm SIMD (reference) | ${m.reference.runcWasm} | | | | | |`,
    );
    lines.push(
      `| ${m.name} | llama2.c run.c native -Ofast AVX2 (reference) | ${m.reference.runcNative} | | | | | |`,
    );
  }
  lines.push(
    '',
    'Ratios use the medians.',
    '',
    '¹ prompt tokens are one forward pass each (no batched prefill yet) and skip the classifier.',
  );
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(engineTable(await benchEngine({ log: (l) => console.error(l) })));
}
