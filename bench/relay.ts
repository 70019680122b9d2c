// The dispatcher's relay: tokens/s a client gets through it vs straight from the origin. The relay is
// the Worker's own code path (dispatch/upstream.ts openUpstream → dispatch/relay.ts relayResponse:
// SSE parsed, every frame rewritten, usage mapped), served by Node in a process of its own, as a
// Worker would be a separate hop. Two origins: the real one (`origin/`, synthetic:tiny, CPU) and the
// mini origin at full speed (tests/dispatch/mini-origin.ts: frames as fast as Node can write them,
// the relay's worst case). Aggregate completion tokens/s of N concurrent streams, direct and proxied
// rounds interleaved, median of the runs. Target: proxied ≥ 0.9× direct. Also: the time to the first
// token each way, and the relay process's own CPU time per relayed token (what the hop costs, apart
// from the cores it shares with the origin on one machine).
// Run alone: `npx tsx bench/relay.ts`.
import { serve } from '@hono/node-server';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HealthBoard } from '../dispatch/health';
import { relayResponse } from '../dispatch/relay';
import { ModelRegistry, type OriginPool } from '../dispatch/registry';
import { openUpstream } from '../dispatch/upstream';
import { killProcess, startOrigin, type OriginOptions } from '../tests/dispatch/spawn-origin';

interface Case {
  label: string;
  origin: OriginOptions;
  streams: number;
  tokens: number;
}

const CASES: Case[] = [
  { label: 'origin/ synthetic:tiny (CPU reference backend)', origin: { kind: 'real' }, streams: 1, tokens: 1024 },
  { label: 'origin/ synthetic:tiny (CPU reference backend)', origin: { kind: 'real' }, streams: 8, tokens: 1024 },
  { label: 'mini origin, full speed (relay worst case)', origin: { kind: 'mini' }, streams: 1, tokens: 4000 },
  { label: 'mini origin, full speed (relay worst case)', origin: { kind: 'mini' }, streams: 8, tokens: 2000 },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Round {
  tokPerS: number;
  /** Median over the streams of the time to the first content frame. */
  firstTokenMs: number;
}

/** `streams` concurrent streamed chat requests of `tokens` tokens; aggregate completion tokens/s. */
async function round(url: string, streams: number, tokens: number, tag: string): Promise<Round> {
  const started = performance.now();
  const firsts: number[] = [];
  const counts = await Promise.all(
    Array.from({ length: streams }, async (_, i) => {
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-cache-salt': 'bench' },
        body: JSON.stringify({
          model: 'tiny', messages: [{ role: 'user', content: `${tag} stream ${i}: once upon a time` }], max_tokens: tokens,
          temperature: 0, ignore_eos: true, stream: true, stream_options: { include_usage: true },
        }),
      });
      if (!res.ok) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
      let body = '';
      const decoder = new TextDecoder();
      const reader = res.body!.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        const text = decoder.decode(r.value, { stream: true });
        if (!body.includes('"content":"') && text.includes('"content":"')) firsts.push(performance.now() - started);
        body += text;
      }
      return Number(/"completion_tokens":(\d+)/.exec(body.slice(body.lastIndexOf('"usage"')))?.[1] ?? 0);
    }),
  );
  return { tokPerS: counts.reduce((a, b) => a + b, 0) / ((performance.now() - started) / 1000), firstTokenMs: median(firsts) };
}

/** The relay process: `bench/relay.ts --serve --upstream URL` prints `relay listening <port>`. */
function serveRelay(upstream: string): void {
  const pool = ModelRegistry.parse({ models: { tiny: { placement: 'origin', origins: [{ url: upstream }] } } }).get('tiny') as OriginPool;
  const health = new HealthBoard();
  let n = 0;
  const server = serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: async (request: Request) => {
      if (new URL(request.url).pathname === '/cpu') return Response.json(process.cpuUsage());
      const body = (await request.json()) as Record<string, unknown>;
      const requestId = `bench-${++n}`;
      const req = { pool, path: '/v1/chat/completions' as const, body, requestId, salt: 'bench', signal: request.signal };
      const up = await openUpstream(pool.origins, req, health);
      const ctx = {
        id: `chatcmpl-${requestId}`, model: 'tiny', created: Math.floor(Date.now() / 1000), object: 'chat.completion.chunk' as const,
        includeUsage: true, promptEstimate: 0, settle: async () => undefined,
      };
      return relayResponse(up, ctx, (err) => ({ error: { message: String(err) } }), {});
    },
  });
  server.on('listening', () => console.log(`relay listening ${(server.address() as { port: number }).port}`));
}

function startRelay(upstream: string): Promise<{ url: string; child: ChildProcess }> {
  // Not process.execArgv: under `node -e` it holds the script, and the child would run the bench again
  // (and so on, a process per level). The relay child only needs the TypeScript loader.
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', '--upstream', upstream], { stdio: ['ignore', 'pipe', 'inherit'], cwd: fileURLToPath(new URL('..', import.meta.url)) });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /relay listening (\d+)/.exec(out);
      if (m) resolve({ url: `http://127.0.0.1:${m[1]}`, child });
    });
  });
}

export async function benchRelay(opts: { runs?: number; log?: (line: string) => void } = {}): Promise<string> {
  const runs = opts.runs ?? 5;
  const log = opts.log ?? (() => {});
  const rows = [
    '| origin | streams | tokens/stream | direct tok/s | proxied tok/s | proxied / direct | first token direct | first token proxied | relay CPU per token |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const c of CASES) {
    const origin = await startOrigin(c.origin);
    const relay = await startRelay(origin.url);
    try {
      await round(origin.url, c.streams, 16, 'warm');
      await round(relay.url, c.streams, 16, 'warm');
      const direct: Round[] = [];
      const proxied: Round[] = [];
      const cpu = async () => ((await (await fetch(`${relay.url}/cpu`)).json()) as { user: number; system: number });
      let relayCpuUs = 0;
      for (let r = 0; r < runs; r++) {
        direct.push(await round(origin.url, c.streams, c.tokens, `d${r}`));
        const before = await cpu();
        proxied.push(await round(relay.url, c.streams, c.tokens, `p${r}`));
        const after = await cpu();
        relayCpuUs += after.user + after.system - before.user - before.system;
      }
      const [d, p] = [median(direct.map((x) => x.tokPerS)), median(proxied.map((x) => x.tokPerS))];
      const [fd, fp] = [median(direct.map((x) => x.firstTokenMs)), median(proxied.map((x) => x.firstTokenMs))];
      const perToken = relayCpuUs / (runs * c.streams * c.tokens);
      log(`${c.label}, ${c.streams} streams: direct ${d.toFixed(0)} tok/s, proxied ${p.toFixed(0)} tok/s, relay ${perToken.toFixed(1)} µs CPU/token`);
      rows.push(`| ${c.label} | ${c.streams} | ${c.tokens} | ${d.toFixed(0)} | ${p.toFixed(0)} | ${(p / d).toFixed(2)}× | ${fd.toFixed(1)} ms | ${fp.toFixed(1)} ms | ${perToken.toFixed(1)} µs |`);
    } finally {
      await killProcess(relay.child);
      await origin.kill();
    }
  }
  return rows.join('\n');
}

const { values } = parseArgs({ options: { serve: { type: 'boolean' }, upstream: { type: 'string' } }, strict: false });
if (values.serve) serveRelay(String(values.upstream));
else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  benchRelay({ log: (l) => console.error(l) }).then(console.log, (err) => {
    console.error(err);
    process.exit(1);
  });
}
