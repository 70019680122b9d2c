// Prompt cache inside workerd, through the real Worker: time to first token cold vs restored from
// Miniflare's KV for chat prompts of exactly 256, 1024 and 2048 tokens (the model's tokenizer
// after the chat template; all but the last token restorable) and 257/1025/2049 (a restored prefix
// of exactly 256/1024/2048, one token computed), on a stories15M-shaped random-weight edge model
// with a 2304-token context served from R2. Every request goes through auth (D1), metering (the
// rate-limiter Durable Object, the D1 ledger) and SSE, as in production. TTFT = request start →
// first content frame, timed in Node. Rounds interleave cold and cached: each round a new tenant
// asks cold (a miss: every token computed, the blocks stored after the response), then, once the
// write-behind has landed, the same prompt again (a hit). Best of the rounds each way.
// The codec is the Worker's PROMPT_CACHE_CODEC var (a request cannot choose it): a workerd per codec.
//   npx tsx bench/prompt-cache-workerd.ts [--runs N] [--codecs int8,f16,int4]
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { renderPlainTemplate } from '../engine/chat-template';
import {
  BLOCK_TOKENS,
  CODEC_NAMES,
  Llama2cTokenizer,
  STORIES15M_SHAPE,
  syntheticLlama2cCheckpoint,
  syntheticLlama2cTokenizer,
  type CodecName,
} from '../engine/index';
import {
  bundleWorker,
  removeBundle,
  startWorker,
  type BenchWorker,
} from './prompt-cache-workerd-setup';

const SHAPE = { ...STORIES15M_SHAPE, seqLen: 2304 };
const MODEL = 'bench-15m-2k';
const PROMPT_TOKENS = [256, 257, 1024, 1025, 2048, 2049];
/** The per-request floor: auth, admission, SSE and one forward pass of a 3-token prompt, cache off. */
const FLOOR_PROMPT = 'one day';
const WORDS =
  'the little dog was happy and she played with her friend in the big park one day'.split(' ');

interface Ttft {
  ms: number;
  promptTokens: number;
  hits: number;
  /** The Worker's Server-Timing (workerd's clock: it moves on I/O, so CPU-only spans can read short). */
  kvReadMs: number;
  decodeMs: number;
}

const tokenizer = Llama2cTokenizer.fromBytes(
  syntheticLlama2cTokenizer(SHAPE.vocabSize),
  SHAPE.vocabSize,
);
/** Prompt tokens of a one-message chat, as the Worker counts them (plain template, the tokenizer's BOS). */
const chatTokens = (text: string) =>
  tokenizer.encode(renderPlainTemplate([{ role: 'user', content: text }]), {
    bos: true,
    eos: false,
  }).length;

/** A text of exactly `target` chat prompt tokens: whole words up to it, then single letters. */
export function promptOf(target: number): string {
  let lo = 0,
    hi = 1;
  const words = (n: number) =>
    Array.from({ length: n }, (_, i) => WORDS[i % WORDS.length]).join(' ');
  while (chatTokens(words(hi)) <= target) hi *= 2;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (chatTokens(words(mid)) <= target) lo = mid;
    else hi = mid;
  }
  let text = words(lo);
  for (let guard = 0; chatTokens(text) < target && guard < 64; guard++) {
    const next = [' a', ' x', 'x', '.']
      .map((s) => text + s)
      .find((t) => chatTokens(t) === chatTokens(text) + 1);
    if (!next) break;
    text = next;
  }
  if (chatTokens(text) !== target)
    throw new Error(`no prompt of exactly ${target} tokens (got ${chatTokens(text)})`);
  return text;
}

const dur = (timing: string, name: string) =>
  Number(new RegExp(`${name};dur=([\\d.]+)`).exec(timing)?.[1] ?? NaN);

/** One streamed chat request of one token; ms to its first content frame. */
async function firstToken(
  w: BenchWorker,
  key: string,
  content: string,
  cache = true,
): Promise<Ttft> {
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
  const decoder = new TextDecoder();
  let body = '',
    ms = 0;
  for await (const chunk of res.body!) {
    body += decoder.decode(chunk as Uint8Array, { stream: true });
    if (!ms && /"content":"[^"]/.test(body)) ms = performance.now() - started;
  }
  if (!ms) throw new Error(`no content frame in:\n${body}`);
  const usage = JSON.parse(
    body
      .split('\n\n')
      .filter((f) => f.includes('"usage":{'))
      .at(-1)!
      .slice(6),
  ).usage;
  const timing = res.headers.get('server-timing') ?? '';
  return {
    ms,
    promptTokens: usage.prompt_tokens,
    hits: usage.prompt_cache_hit_tokens,
    kvReadMs: dur(timing, 'pc-read'),
    decodeMs: dur(timing, 'pc-decode'),
  };
}

async function waitForEntries(w: BenchWorker, prefix: string, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await w.entries(prefix)) < count) {
    if (Date.now() > deadline)
      throw new Error(`the write-behind did not store ${count} entries within 60 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Cold then cached on a fresh tenant; the cached run hits what the cold run stored. */
async function round(w: BenchWorker, text: string): Promise<{ cold: Ttft; cached: Ttft }> {
  const tenant = await w.newTenant();
  const cold = await firstToken(w, tenant.key, text);
  if (cold.hits !== 0) throw new Error(`a cold run hit ${cold.hits} tokens`);
  await waitForEntries(w, tenant.prefix, Math.floor(cold.promptTokens / BLOCK_TOKENS));
  await new Promise((r) => setTimeout(r, 50)); // the write-behind's last puts settle
  return { cold, cached: await firstToken(w, tenant.key, text) };
}

const best = (xs: Ttft[]) => xs.reduce((a, b) => (b.ms < a.ms ? b : a));
const ms = (x: number) => (Number.isNaN(x) ? '–' : x >= 100 ? x.toFixed(0) : x.toFixed(1));

export interface WorkerdBenchOptions {
  runs?: number;
  codecs?: CodecName[];
  log?: (line: string) => void;
}

export async function benchPromptCacheWorkerd(opts: WorkerdBenchOptions = {}): Promise<string> {
  const {
    runs = 5,
    codecs = ['int8', 'f16', 'int4', 'kv4'],
    log = (l: string) => console.error(l),
  } = opts;
  const loadAtStart = loadavg()[0].toFixed(1);
  const prompts = PROMPT_TOKENS.map((n) => ({ n, text: promptOf(n) }));
  const model = {
    [`${MODEL}/model.bin`]: syntheticLlama2cCheckpoint(SHAPE, 1),
    [`${MODEL}/tokenizer.bin`]: syntheticLlama2cTokenizer(SHAPE.vocabSize),
    [`${MODEL}/model.json`]: JSON.stringify({
      id: MODEL,
      format: 'llama2c',
      checkpoint: 'model.bin',
      tokenizer: 'tokenizer.bin',
      created: 0,
      owned_by: 'bench',
      description: 'stories15M shape, random weights',
    }),
  };
  const lines = [
    '| prompt tokens | restored | computed | codec | TTFT cold (ms) | TTFT cached (ms) | KV bulk get (ms) | decode (ms) | speed-up |',
    '| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  const floors: string[] = [];
  const bundle = bundleWorker();
  try {
    for (const codec of codecs) {
      const w = await startWorker(bundle, { PROMPT_CACHE_CODEC: codec }, model);
      try {
        await round(w, promptOf(200)); // loads the model into the isolate and warms the JIT, untimed
        const results = new Map(
          prompts.map((p) => [p.n, { cold: [] as Ttft[], cached: [] as Ttft[] }]),
        );
        for (let r = 0; r < runs; r++) {
          for (const p of prompts) {
            const { cold, cached } = await round(w, p.text);
            if (cold.promptTokens !== p.n)
              throw new Error(
                `the Worker counted ${cold.promptTokens} prompt tokens, expected ${p.n}`,
              );
            results.get(p.n)!.cold.push(cold);
            results.get(p.n)!.cached.push(cached);
            log(
              `${codec} ${p.n} run ${r + 1}: cold ${ms(cold.ms)} ms, cached ${ms(cached.ms)} ms (${cached.hits} restored)`,
            );
          }
        }
        const floor = best(
          await sequential(5, async () =>
            firstToken(w, (await w.newTenant()).key, FLOOR_PROMPT, false),
          ),
        );
        floors.push(`${codec}: ${ms(floor.ms)} ms`);
        for (const p of prompts) {
          const [cold, cached] = [best(results.get(p.n)!.cold), best(results.get(p.n)!.cached)];
          lines.push(
            `| ${p.n} | ${cached.hits} | ${p.n - cached.hits} | ${codec} | ${ms(cold.ms)} | ${ms(cached.ms)} | ${ms(cached.kvReadMs)} | ${ms(cached.decodeMs)} | ${(cold.ms / cached.ms).toFixed(1)}× |`,
          );
        }
      } finally {
        await w.dispose();
      }
    }
  } finally {
    removeBundle(bundle);
  }
  lines.push(
    '',
    `Best of ${runs} rounds (cold, then cached on the same fresh tenant). KV bulk get and decode: the cached run's Server-Timing (pc-read, pc-decode; workerd's clock, which moves on I/O only). ` +
      `Per-request floor (${chatTokens(FLOOR_PROMPT)}-token prompt, cache off, best of 5): ${floors.join(', ')}. Load average ${loadAtStart} at the start, ${loadavg()[0].toFixed(1)} at the end.`,
  );
  return lines.join('\n');
}

async function sequential<T>(n: number, f: () => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(await f());
  return out;
}

function parseArgs(argv: string[]): WorkerdBenchOptions {
  const opts: WorkerdBenchOptions = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') opts.runs = Number(argv[++i]);
    else if (argv[i] === '--codecs') opts.codecs = argv[++i].split(',') as CodecName[];
    else
      throw new Error(
        `unknown argument ${argv[i]}; usage: tsx bench/prompt-cache-workerd.ts [--runs N] [--codecs ${CODEC_NAMES.join(',')}]`,
      );
  }
  const bad = opts.codecs?.filter((c) => !CODEC_NAMES.includes(c));
  if (bad?.length)
    throw new Error(`unknown codec ${bad.join(', ')}; known: ${CODEC_NAMES.join(', ')}`);
  return opts;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(await benchPromptCacheWorkerd(parseArgs(process.argv.slice(2))));
}
