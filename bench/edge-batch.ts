// `npm run bench -- edge-batch`: concurrent streams on one edge model in one isolate, decoded together
// (engine/decode-batcher.ts) vs one sequence per step as before batching (LlamaModel's decodeBatch: 1),
// interleaved per round. Aggregate tok/s at 1, 2, 4, 8 concurrent streams, and time to first token
// p50/p99 when 32 streams arrive at once (8 sessions, the rest queued). The stories110M shape in q8,
// random weights (bench/.models, as bench/edge-models.ts makes them), context 256, in Node.
import { loadavg } from 'node:os';
import { STORIES110M_SHAPE, type LlamaModel } from '../engine/index';
import { loadModelDir } from '../engine/llama/model-dir';
import { createNodeKernels } from '../kernels-wasm/node';
import { readModelDir } from '../tools/model-files';
import { ensureModelDir } from './edge-models';

const SESSIONS = 8;

interface Options {
  rounds?: number;
  /** Tokens each stream generates in the throughput runs. */
  tokens?: number;
  log?: (line: string) => void;
}

async function loadModel(decodeBatch: number): Promise<LlamaModel> {
  const dir = ensureModelDir('stories110M-q8', STORIES110M_SHAPE, 'q8');
  const { model } = await loadModelDir(await createNodeKernels(), readModelDir(dir), {
    maxSessions: SESSIONS,
    maxQueue: 64,
    contextLength: 256,
    decodeBatch,
  });
  return model;
}

const promptOf = (i: number) => [
  1,
  ...Array.from({ length: 11 }, (_, j) => 300 + ((i * 977 + j * 131) % 30000)),
];

/** `streams` generations at once: wall time, tokens, and each one's time to first token (ms). */
async function burst(model: LlamaModel, streams: number, tokens: number) {
  const t0 = performance.now();
  const firsts: number[] = [];
  let total = 0;
  await Promise.all(
    Array.from({ length: streams }, async (_, i) => {
      let first = true;
      for await (const _t of model.generate(promptOf(i), {
        maxTokens: tokens,
        temperature: 0,
        topP: 1,
        stopAtEos: false,
      })) {
        if (first) firsts.push(performance.now() - t0);
        first = false;
        total++;
      }
    }),
  );
  return { seconds: (performance.now() - t0) / 1000, total, firsts };
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};

export async function benchEdgeBatch(o: Options = {}): Promise<string> {
  const { rounds = 2, tokens = 24, log = () => {} } = o;
  const modes = { before: await loadModel(1), after: await loadModel(SESSIONS) };
  const tps: Record<string, Record<number, number[]>> = { before: {}, after: {} };
  const ttft: Record<string, number[][]> = { before: [], after: [] };
  const loads: string[] = [];
  for (const m of Object.values(modes)) await burst(m, 2, 4); // warm-up: compile, allocate
  for (let r = 0; r < rounds; r++) {
    loads.push(loadavg()[0].toFixed(1));
    const order = r % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const);
    for (const streams of [1, 2, 4, 8])
      for (const mode of order) {
        const b = await burst(modes[mode], streams, tokens);
        (tps[mode][streams] ??= []).push(b.total / b.seconds);
        log(`round ${r + 1} ${mode} ${streams} streams: ${(b.total / b.seconds).toFixed(1)} tok/s`);
      }
    for (const mode of order) {
      const b = await burst(modes[mode], 32, 16);
      ttft[mode].push(b.firsts);
      log(
        `round ${r + 1} ${mode} 32 streams: first token p50 ${quantile(b.firsts, 0.5).toFixed(0)} ms`,
      );
    }
  }
  loads.push(loadavg()[0].toFixed(1));
  return report(tps, ttft, modes.after.batcher.stats, loads, tokens);
}

function report(
  tps: Record<string, Record<number, number[]>>,
  ttft: Record<string, number[][]>,
  stats: { steps: number; tokens: number },
  loads: string[],
  tokens: number,
): string {
  const best = (xs: number[]) => Math.max(...xs);
  const one = { before: best(tps.before[1]), after: best(tps.after[1]) };
  const rows = [1, 2, 4, 8].map((n) => {
    const ratios = tps.after[n].map((a, i) => (a / tps.before[n][i]).toFixed(2) + '×').join(', ');
    return `| ${n} | ${best(tps.before[n]).toFixed(1)} | ${best(tps.after[n]).toFixed(1)} | ${(best(tps.after[n]) / one.after).toFixed(2)}× | ${ratios} |`;
  });
  const lat = (['before', 'after'] as const).map((m) => {
    const per = ttft[m].map(
      (f) => `${(quantile(f, 0.5) / 1000).toFixed(2)} / ${(quantile(f, 0.99) / 1000).toFixed(2)}`,
    );
    return `| ${m === 'before' ? 'before (one sequence per step)' : 'after (batched steps)'} | ${per.join(' · ')} |`;
  });
  return [
    `stories110M shape, q8, random weights, context 256, ${SESSIONS} sessions; each stream a 12-token prompt and ${tokens} greedy tokens; load average per round: ${loads.join(' → ')}.`,
    '',
    '| streams | before: tok/s (best) | after: tok/s (best) | after / after at 1 stream | after / before per round |',
    '| ---: | ---: | ---: | ---: | --- |',
    ...rows,
    '',
    `32 streams at once (16 tokens each, ${SESSIONS} sessions, 24 queued): time to first token p50 / p99 in s, per round:`,
    '',
    '| mode | p50 / p99 (s) |',
    '| --- | --- |',
    ...lat,
    '',
    `Batched steps run: ${stats.steps}, mean sequences per step ${(stats.tokens / Math.max(1, stats.steps)).toFixed(2)}.`,
  ].join('\n');
}
