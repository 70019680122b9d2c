// Prefill at an origin, decode at the edge (docs/prompt-cache.md): time to first token of a ~1K-token
// chat prompt on our trained model (models/pystd-mla-moe) through the real Worker in workerd (the same
// bundle a deploy uploads, bench/prompt-cache-workerd-setup.ts), three ways, interleaved each round:
//   edge      the edge computes the whole prompt (`cache: false`: no lookup, no hand-off);
//   hand-off  a fresh tenant: KV misses, a local origin process (CPU backend, the same files) computes
//             the prompt and answers its blocks as f32 latent entries, the Worker checks and restores
//             them and the edge computes the partial last block, then samples;
//   KV hit    the same tenant again: the blocks come from KV, no origin.
// Plus the origin's entries endpoint timed alone from Node (its prefill, encoding and JSON). TTFT =
// request start → the frame of the one generated token, timed in Node. Best and median of the rounds.
//   npx tsx bench/edge-handoff.ts [--runs N]
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startOrigin } from '../origin/launch';
import { repoRoot } from '../tools/paths';
import {
  bundleWorker,
  removeBundle,
  startWorker,
  type BenchWorker,
} from './prompt-cache-workerd-setup';

const MODEL = 'pystd-mla-moe';
const DIR = join(repoRoot, 'models', MODEL);
const FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
const SECRET = 'bench-prefill-secret';
const LINES = readFileSync('/usr/lib/python3.11/heapq.py', 'utf8').split('\n');

interface Ttft {
  ms: number;
  promptTokens: number;
  hits: number;
  by: string | null;
}

async function firstToken(w: BenchWorker, key: string, content: string, cache = true) {
  const started = performance.now();
  const res = await w.mf.dispatchFetch('http://bench/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content }],
      max_tokens: 1,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
      cache,
    }),
  });
  if (res.status !== 200) throw new Error(`chat: ${res.status} ${await res.text()}`);
  let body = '',
    ms = 0;
  const decoder = new TextDecoder();
  for await (const chunk of res.body!) {
    body += decoder.decode(chunk as Uint8Array, { stream: true });
    // The one token's frame (its text may be empty: the role frame before it is not it).
    if (!ms && /"finish_reason":"/.test(body)) ms = performance.now() - started;
  }
  const usage = JSON.parse(
    body
      .split('\n\n')
      .filter((f) => f.includes('"usage":{'))
      .at(-1)!
      .slice(6),
  ).usage;
  return {
    ms,
    promptTokens: usage.prompt_tokens,
    hits: usage.prompt_cache_hit_tokens,
    by: res.headers.get('x-prefilled-by'),
  } satisfies Ttft;
}

/** Python source of at most `target` prompt tokens, within a few lines of it (trial requests count them). */
async function promptNear(w: BenchWorker, key: string, target: number): Promise<string> {
  const text = (n: number) => LINES.slice(0, n).join('\n');
  const tokens = (n: number) =>
    firstToken(w, key, text(n), false).then(
      (r) => r.promptTokens,
      (err: Error) => {
        if (!/context length/.test(err.message)) throw err;
        return Infinity; // over the context: a 400
      },
    );
  let n = Math.floor((20 * target) / (await tokens(20)));
  for (let got = await tokens(n); got > target; got = await tokens(n)) {
    n = Math.floor(n * 0.95);
  }
  return text(n);
}

const best = (xs: number[]) => Math.min(...xs);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f = (x: number) => x.toFixed(0);

export async function benchEdgeHandoff(
  opts: { runs?: number; log?: (l: string) => void } = {},
): Promise<string> {
  const { runs = 5, log = (l: string) => console.error(l) } = opts;
  const loadStart = loadavg().map((x) => x.toFixed(1));
  const origin = await startOrigin([
    '--model',
    DIR,
    '--internal-secret',
    SECRET,
    '--role',
    'prefill',
  ]);
  const registry = {
    models: {
      [MODEL]: {
        placement: 'edge',
        prefill: { origins: [{ url: origin.url, name: 'local-prefill' }], min_prompt_tokens: 128 },
      },
    },
  };
  const models: Record<string, Uint8Array | string> = {
    [`${MODEL}/model.json`]: JSON.stringify({
      id: MODEL,
      format: 'hf',
      weights: ['model.safetensors'],
      tokenizer: 'tokenizer.json',
      tokenizer_config: 'tokenizer_config.json',
      context_length: 1024,
      created: 0,
    }),
  };
  for (const name of FILES) models[`${MODEL}/${name}`] = readFileSync(join(DIR, name));
  const bundle = bundleWorker();
  const w = await startWorker(
    bundle,
    { MODEL_REGISTRY: JSON.stringify(registry), PREFILL_SECRET: SECRET },
    models,
  );
  try {
    const warm = await w.newTenant();
    const prompt = await promptNear(w, warm.key, 1000); // also loads the model and warms the JIT
    const warmup = await firstToken(w, warm.key, prompt); // a warm-up hand-off, untimed
    log(`warm-up: ${warmup.promptTokens} tokens, prefilled by ${warmup.by} in ${f(warmup.ms)} ms`);
    const t = {
      edge: [] as number[],
      handoff: [] as number[],
      hit: [] as number[],
      origin: [] as number[],
    };
    let tokens = 0;
    for (let r = 0; r < runs; r++) {
      const a = await w.newTenant();
      const edge = await firstToken(w, a.key, prompt, false);
      const b = await w.newTenant();
      const handed = await firstToken(w, b.key, prompt);
      if (!handed.by || handed.by === 'edge') throw new Error(`not handed off: ${handed.by}`);
      const blocks = Math.floor(handed.promptTokens / 64);
      for (let i = 0; (await w.entries(b.prefix)) < blocks; i++) {
        if (i > 3000)
          throw new Error(`the hand-off did not store ${blocks} blocks within a minute`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const hit = await firstToken(w, b.key, prompt);
      if (hit.hits !== blocks * 64) throw new Error(`the KV run hit ${hit.hits} tokens`);
      const o0 = performance.now();
      const direct = await fetch(`${origin.url}/internal/prefill-entries`, {
        method: 'POST',
        headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          prompt_ids: Array.from({ length: handed.promptTokens }, (_, i) => 3 + (i % 5000)),
          scope: { tenant_salt: 'x', model_id: MODEL, weights_digest: 'x' },
          logits: false,
        }),
      });
      await direct.json();
      t.origin.push(performance.now() - o0);
      t.edge.push(edge.ms);
      t.handoff.push(handed.ms);
      t.hit.push(hit.ms);
      tokens = edge.promptTokens;
      log(
        `round ${r + 1}: edge ${f(edge.ms)} ms, hand-off ${f(handed.ms)} ms, KV hit ${f(hit.ms)} ms`,
      );
    }
    const loadEnd = loadavg().map((x) => x.toFixed(1));
    return [
      `${MODEL}, ${tokens}-token chat prompt, 1 output token; best / median of ${runs} interleaved rounds (ms).`,
      `Load (1/5/15 min) at start ${loadStart.join(' ')}, at end ${loadEnd.join(' ')}.`,
      '',
      '| path | TTFT best | TTFT median | vs edge (median) |',
      '| --- | ---: | ---: | ---: |',
      `| edge prefill (cache off) | ${f(best(t.edge))} | ${f(median(t.edge))} | 1.00 |`,
      `| origin prefill + edge decode (KV miss) | ${f(best(t.handoff))} | ${f(median(t.handoff))} | ${(median(t.edge) / median(t.handoff)).toFixed(2)}× |`,
      `| KV hit (blocks the hand-off stored) | ${f(best(t.hit))} | ${f(median(t.hit))} | ${(median(t.edge) / median(t.hit)).toFixed(2)}× |`,
      `| origin entries endpoint alone (Node → origin) | ${f(best(t.origin))} | ${f(median(t.origin))} | |`,
    ].join('\n');
  } finally {
    await w.dispose();
    removeBundle(bundle);
    await origin.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--runs');
  const runs = i > 0 ? Number(process.argv[i + 1]) : undefined;
  console.log(await benchEdgeHandoff({ runs }));
}
