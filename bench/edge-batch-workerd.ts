// The workerd half of `npm run bench -- edge-batch`: the real Worker (wrangler's bundle, Miniflare, the
// project's bindings: bench/prompt-cache-workerd-setup.ts) serving N concurrent SSE completions of one
// edge model, decoded in batched steps (manifest default) or one sequence per step (`decode_batch: 1`,
// as before batching), interleaved per round. Timed from Node (workerd's clock moves only on I/O).
// The stories15M shape in q8 (random weights): the 110M one with 8 sessions' KV caches would not fit
// the isolate's 128 MB.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { STORIES15M_SHAPE } from '../engine/index';
import { ensureModelDir } from './edge-models';
import {
  bundleWorker,
  removeBundle,
  startWorker,
  type BenchWorker,
} from './prompt-cache-workerd-setup';

const SESSIONS = 8;
const MODES = { before: 'edge15m-q8-seq', after: 'edge15m-q8' } as const;

function models(): Record<string, Uint8Array | string> {
  const dir = ensureModelDir('stories15M-q8', { ...STORIES15M_SHAPE, seqLen: 1024 }, 'q8');
  const out: Record<string, Uint8Array | string> = {};
  for (const [mode, id] of Object.entries(MODES)) {
    for (const f of readdirSync(dir)) out[`${id}/${f}`] = readFileSync(join(dir, f));
    out[`${id}/model.json`] = JSON.stringify({
      id,
      format: 'hf',
      weights: ['model.safetensors'],
      tokenizer: 'tokenizer.bin',
      tokenizer_config: 'tokenizer_config.json',
      context_length: 256,
      max_sessions: SESSIONS,
      ...(mode === 'before' ? { decode_batch: 1 } : {}),
      created: 0,
    });
  }
  return out;
}

/** One streamed completion: ms to its first content frame, and its completion tokens. */
async function stream(w: BenchWorker, key: string, model: string, i: number, tokens: number) {
  const t0 = performance.now();
  const res = await w.mf.dispatchFetch('http://bench/v1/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model,
      prompt: `Once upon a time ${i} there was`,
      max_tokens: tokens,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
      cache: false,
    }),
  });
  if (res.status !== 200) throw new Error(`completions: ${res.status} ${await res.text()}`);
  const decoder = new TextDecoder();
  let body = '',
    first = 0;
  for await (const chunk of res.body!) {
    body += decoder.decode(chunk as Uint8Array, { stream: true });
    if (!first && /"text":"[^"]/.test(body)) first = performance.now() - t0;
  }
  const used = /"completion_tokens":(\d+)/.exec(body);
  return { first, tokens: used ? Number(used[1]) : 0 };
}

async function burst(w: BenchWorker, keys: string[], model: string, n: number, tokens: number) {
  const t0 = performance.now();
  const runs = await Promise.all(
    Array.from({ length: n }, (_, i) => stream(w, keys[i % keys.length], model, i, tokens)),
  );
  const seconds = (performance.now() - t0) / 1000;
  return {
    tps: runs.reduce((s, r) => s + r.tokens, 0) / seconds,
    firsts: runs.map((r) => r.first),
  };
}

const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)];

export async function benchEdgeBatchWorkerd(
  o: { rounds?: number; log?: (l: string) => void } = {},
) {
  const { rounds = 2, log = () => {} } = o;
  const bundle = bundleWorker();
  const w = await startWorker(bundle, {}, models());
  try {
    // keys allow 16 requests at once each: two for the 32-stream burst
    const keys = [(await w.newTenant()).key, (await w.newTenant()).key];
    for (const id of Object.values(MODES)) await burst(w, keys, id, 2, 4); // load, compile
    const tps: Record<string, Record<number, number[]>> = { before: {}, after: {} };
    const ttft: Record<string, string[]> = { before: [], after: [] };
    const loads = [loadavg()[0].toFixed(1)];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? (['after', 'before'] as const) : (['before', 'after'] as const);
      for (const n of [1, 2, 4, 8])
        for (const mode of order) {
          const b = await burst(w, keys, MODES[mode], n, 48);
          (tps[mode][n] ??= []).push(b.tps);
          log(`workerd round ${r + 1} ${mode} ${n} streams: ${b.tps.toFixed(1)} tok/s`);
        }
      for (const mode of order) {
        const b = await burst(w, keys, MODES[mode], 32, 32);
        ttft[mode].push(
          `${(quantile(b.firsts, 0.5) / 1000).toFixed(2)} / ${(quantile(b.firsts, 0.99) / 1000).toFixed(2)}`,
        );
        log(`workerd round ${r + 1} ${mode} 32 streams: p50/p99 ${ttft[mode].at(-1)} s`);
      }
      loads.push(loadavg()[0].toFixed(1));
    }
    const best = (xs: number[]) => Math.max(...xs).toFixed(1);
    return [
      `workerd (Miniflare) through the Worker: stories15M shape, q8, random weights, context 256, ${SESSIONS} sessions; SSE completions of 48 tokens (32-stream burst: 32 tokens); load average per round: ${loads.join(' → ')}.`,
      '',
      '| streams | before: tok/s (best) | after: tok/s (best) | after / before per round |',
      '| ---: | ---: | ---: | --- |',
      ...[1, 2, 4, 8].map(
        (n) =>
          `| ${n} | ${best(tps.before[n])} | ${best(tps.after[n])} | ${tps.after[n].map((a, i) => (a / tps.before[n][i]).toFixed(2) + '×').join(', ')} |`,
      ),
      '',
      '| 32 streams at once | first token p50 / p99 (s), per round |',
      '| --- | --- |',
      `| before (one sequence per step) | ${ttft.before.join(' · ')} |`,
      `| after (batched steps) | ${ttft.after.join(' · ')} |`,
    ].join('\n');
  } finally {
    await w.dispose();
    removeBundle(bundle);
  }
}
