// Origin throughput under concurrency: a real `npm run origin` process on a synthetic DeepSeek-V3-shaped
// FP8 model or a model directory (CPU or WebGPU backend), driven over HTTP by 1, 4 and 16 concurrent
// streaming requests, each a prompt and then a fixed number of greedy tokens (ignore_eos): this measures
// decode batching. Aggregate completion tokens/s per level, median of runs after a warm-up, and the ratio
// to one stream; the origin's own /metrics give the sequences per step and the step latency.
// Run alone: `npx tsx bench/origin.ts [preset | model dir] [backend]` (ORIGIN_BENCH_PRESET, default small;
// ORIGIN_BENCH_BACKEND, default cpu ('reference' is its old name): webgpu runs on whatever adapter is there, lavapipe included).
// `npx tsx bench/origin.ts [preset | model dir] [backend] --mtp`: decode tok/s with and without MTP
// speculative decoding (bench/origin-mtp.ts; preset default small-mtp), e.g. on models/pystd-mla-moe.
// Flags: --tokens N (per stream), --runs N, --levels 1,4,16.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startOrigin, type RunningOrigin } from '../origin/launch';
import { benchModel, type BenchModel } from './bench-model';
import { benchOriginMtp } from './origin-mtp';

export interface OriginBenchOptions {
  /** A synthetic preset or a model directory (bench/bench-model.ts). */
  preset?: string;
  /** --backend of the origin (default cpu). */
  backend?: 'cpu' | 'reference' | 'webgpu' | 'auto';
  levels?: number[];
  /** Completion tokens per stream. */
  tokens?: number;
  runs?: number;
  log?: (line: string) => void;
}

interface Level {
  streams: number;
  tokPerS: number[];
  batch: number;
  stepMs: number;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function scrape(origin: RunningOrigin): Promise<Record<string, number>> {
  const text = await (await fetch(`${origin.url}/metrics`)).text();
  const out: Record<string, number> = {};
  const names =
    /^(origin_(?:batch_size|step_seconds)_(?:sum|count)|spec_decode_\w+_total) (\S+)$/gm;
  for (const m of text.matchAll(names)) out[m[1]] = Number(m[2]);
  return out;
}

/** One round: `streams` concurrent requests of `tokens` tokens each; returns aggregate tokens/s. */
export async function round(
  origin: RunningOrigin,
  model: BenchModel,
  streams: number,
  tokens: number,
  salt: string,
): Promise<number> {
  const started = performance.now();
  const done = await Promise.all(
    Array.from({ length: streams }, async (_, i) => {
      const res = await fetch(`${origin.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-cache-salt': salt },
        body: JSON.stringify({
          model: model.id,
          prompt: model.prompt(i),
          max_tokens: tokens,
          temperature: 0,
          ignore_eos: true,
          stream: true,
          stream_options: { include_usage: true },
        }),
      });
      if (!res.ok) throw new Error(`origin answered ${res.status}: ${await res.text()}`);
      const body = await res.text(); // consumed as it streams
      const usage = /"completion_tokens":(\d+)/.exec(body.slice(body.lastIndexOf('"usage"')));
      return Number(usage?.[1] ?? 0);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return done.reduce((a, b) => a + b, 0) / seconds;
}

export async function benchOrigin(opts: OriginBenchOptions = {}): Promise<string> {
  const preset = opts.preset ?? process.env.ORIGIN_BENCH_PRESET ?? 'small';
  const levels = opts.levels ?? [1, 4, 16];
  const tokens = opts.tokens ?? 128;
  const runs = opts.runs ?? 3;
  const log = opts.log ?? ((line: string) => console.error(line));
  const backend =
    opts.backend ?? (process.env.ORIGIN_BENCH_BACKEND as OriginBenchOptions['backend']) ?? 'cpu';
  const maxSeqs = Math.max(...levels);
  const model = benchModel(preset);
  const origin = await startOrigin(
    [
      '--model',
      model.arg,
      '--backend',
      backend,
      '--max-seqs',
      String(maxSeqs),
      '--prefix-cache-mb',
      '0',
    ],
    300_000,
  );
  // What ran, from the startup line: "backend webgpu (W8A8) on <adapter>, N MiB".
  const ran = /backend (.+?), tokenizer/.exec(origin.output())?.[1] ?? backend;
  const results: Level[] = [];
  try {
    await round(origin, model, 2, 8, 'warm-up');
    for (const streams of levels) {
      const before = await scrape(origin);
      const tokPerS: number[] = [];
      for (let r = 0; r < runs; r++) {
        tokPerS.push(await round(origin, model, streams, tokens, `run-${streams}-${r}`));
        log(
          `bench/origin: ${preset} on ${backend}, ${streams} streams, run ${r + 1}/${runs}: ${tokPerS.at(-1)!.toFixed(1)} tok/s`,
        );
      }
      const after = await scrape(origin);
      const steps = after.origin_batch_size_count - before.origin_batch_size_count;
      results.push({
        streams,
        tokPerS,
        batch: (after.origin_batch_size_sum - before.origin_batch_size_sum) / steps,
        stepMs:
          ((after.origin_step_seconds_sum - before.origin_step_seconds_sum) /
            (after.origin_step_seconds_count - before.origin_step_seconds_count)) *
          1000,
      });
    }
  } finally {
    await origin.stop();
  }
  return table(model, ran, tokens, runs, results);
}

function table(
  model: BenchModel,
  backend: string,
  tokens: number,
  runs: number,
  results: Level[],
): string {
  const one = median(results.find((r) => r.streams === 1)?.tokPerS ?? results[0].tokPerS);
  const lines = [
    `Origin (\`npm run origin -- --model ${model.arg}\`, backend ${backend}, FP8 weights): ${model.description}. ` +
      `Each stream: a prompt, ${tokens} greedy tokens (ignore_eos) over SSE; tokens/s = all streams' completion tokens / wall time; median of ${runs} runs.`,
    '',
    '| streams | tok/s (median) | best run | per stream | × one stream | sequences per step | step latency |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results) {
    const m = median(r.tokPerS);
    lines.push(
      `| ${r.streams} | ${m.toFixed(1)} | ${Math.max(...r.tokPerS).toFixed(1)} | ${(m / r.streams).toFixed(1)} | ${(m / one).toFixed(2)}× | ${r.batch.toFixed(1)} | ${r.stepMs.toFixed(2)} ms |`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      mtp: { type: 'boolean', default: false },
      tokens: { type: 'string' },
      runs: { type: 'string' },
      levels: { type: 'string' },
    },
  });
  const opts: OriginBenchOptions = {
    preset: positionals[0],
    backend: positionals[1] as OriginBenchOptions['backend'],
    tokens: values.tokens ? Number(values.tokens) : undefined,
    runs: values.runs ? Number(values.runs) : undefined,
    levels: values.levels ? values.levels.split(',').map(Number) : undefined,
  };
  (values.mtp ? benchOriginMtp(opts) : benchOrigin(opts)).then(
    (md) => console.log(md),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
