// The seed's serving table for our own models: output tokens/s, time to first token and context, per
// model, at the edge and at the origin, as a client sees them. Starts the real stack (`npm start`:
// Worker in workerd, local origin, seeded edge models) and streams chat completions through the
// official wire format. `npx tsx bench/serving-table.ts [--runs N] [--tokens N]` or
// `npm run bench -- serving-table`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../tools/paths';

const KEY = process.env.DEV_API_KEY ?? 'sk-local-dev';
const PROMPT =
  'Write a Python function that reads a configuration file, checks every option against a schema, and returns the options it found.';

interface Sample {
  ttftMs: number;
  /** Output tokens/s after the first token (decode rate). */
  decodeTokS: number;
  /** Output tokens/s over the whole request, first token included (the seed's "output tok/s"). */
  outputTokS: number;
  tokens: number;
  servedBy: string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function startStack(log: (s: string) => void): Promise<{ url: string; stop(): void }> {
  const persist = mkdtempSync(join(tmpdir(), 'serving-table-'));
  const child = spawn('npm', ['start'], {
    cwd: repoRoot,
    env: { ...process.env, PORT: String(await freePort()), PERSIST_TO: persist },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start not ready:\n${out}`)), 300_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = out.match(/Ready: (http:\/\/\S+)\/v1/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`npm start exited (${code}):\n${out}`)));
  });
  log(`stack up at ${url}`);
  return {
    url,
    stop() {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      rmSync(persist, { recursive: true, force: true });
    },
  };
}

/** One streamed chat completion; times measured at the client from the request's start. */
async function sample(url: string, model: string, run: number, maxTokens: number): Promise<Sample> {
  const start = performance.now();
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify({
      model,
      // a new first line per run: the prompt cache misses, so every TTFT includes the prefill
      messages: [{ role: 'user', content: `Task ${run + 1}. ${PROMPT}` }],
      max_tokens: maxTokens,
      temperature: 0.8,
      seed: run,
      stream: true,
      stream_options: { include_usage: true },
    }),
  });
  if (!res.ok) throw new Error(`${model}: ${res.status} ${await res.text()}`);
  const decoder = new TextDecoder();
  let first = 0;
  let last = 0;
  let tokens = 0;
  let buf = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (!frame.startsWith('data: ') || frame === 'data: [DONE]') continue;
      const data = JSON.parse(frame.slice(6));
      const delta = data.choices?.[0]?.delta;
      if (delta && (delta.content || delta.reasoning_content)) {
        last = performance.now();
        if (!first) first = last;
      }
      if (data.usage) tokens = data.usage.completion_tokens;
    }
  }
  const total = last - start;
  return {
    ttftMs: first - start,
    decodeTokS: tokens > 1 ? ((tokens - 1) * 1000) / (last - first) : 0,
    outputTokS: (tokens * 1000) / total,
    tokens,
    servedBy: res.headers.get('x-served-by') ?? '',
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function benchServingTable(
  opts: { runs?: number; tokens?: number; log?: (s: string) => void } = {},
): Promise<string> {
  const { runs = 5, tokens = 128, log = console.error } = opts;
  const stack = await startStack(log);
  try {
    const listed = (await (
      await fetch(`${stack.url}/v1/models`, { headers: { authorization: `Bearer ${KEY}` } })
    ).json()) as { data: { id: string; context_length?: number }[] };
    const context = new Map(listed.data.map((m) => [m.id, m.context_length]));
    const models = listed.data.map((m) => m.id).filter((id) => !id.startsWith('deepseek-'));
    const rows: string[] = [];
    for (const model of models) {
      const cold = await sample(stack.url, model, 1000, 8); // the isolate's first request loads it
      const samples: Sample[] = [];
      for (let r = 0; r < runs; r++) samples.push(await sample(stack.url, model, r, tokens));
      log(
        `${model}: ${samples.map((s) => `${s.ttftMs.toFixed(0)} ms/${s.decodeTokS.toFixed(1)}`)}`,
      );
      const tier = samples[0].servedBy.split(':')[0];
      rows.push(
        `| ${model} | ${tier} | ${context.get(model) ?? '?'} | ${median(samples.map((s) => s.outputTokS)).toFixed(1)} | ` +
          `${median(samples.map((s) => s.decodeTokS)).toFixed(1)} | ${(median(samples.map((s) => s.ttftMs)) / 1000).toFixed(3)} | ` +
          `${(cold.ttftMs / 1000).toFixed(2)} | ${median(samples.map((s) => s.tokens))} |`,
      );
    }
    return [
      `Through \`npm start\` (Worker in workerd, local CPU origin), streamed chat completions, ${runs} runs per model (median), ` +
        `${tokens} max output tokens, temperature 0.8, a prompt of ~30 words whose first line changes per run (no prompt-cache hit).`,
      '',
      '| model | tier | context | output tok/s | decode tok/s (after the first token) | TTFT (s) | first request of the isolate, TTFT (s) | output tokens (median) |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
    ].join('\n');
  } finally {
    stack.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, d: number) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : d;
  };
  benchServingTable({ runs: arg('--runs', 5), tokens: arg('--tokens', 128) }).then(
    (table) => console.log(table),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
