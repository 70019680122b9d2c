// The dispatcher's relay: tokens/s a client gets through it vs straight from the origin. The relay is
// the Worker's own code path (dispatch/upstream.ts openUpstream → dispatch/relay.ts relayResponse:
// SSE parsed, every frame rewritten, usage mapped) as a Worker (bench/relay-worker.ts) in workerd,
// under wrangler's dev server as `npm start` runs the real one. Two origins: the real one
// (`origin/`, synthetic:tiny, CPU reference backend) and the mini origin at full speed
// (tests/dispatch/mini-origin.ts: frames as fast as Node writes them, the relay's worst case).
// Aggregate completion tokens/s of N concurrent streams, direct and proxied rounds interleaved,
// median of the runs. Target: proxied ≥ 0.9× direct. Also the time to the first token each way,
// and workerd's CPU time per relayed token (what the hop costs). On a machine of a few cores the
// origin gets the first core to itself (taskset) and the client and the relay share the rest, as
// if they ran on other machines: otherwise the relay's CPU would be measured as the origin's loss.
// Run alone: `npx tsx bench/relay.ts`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unstable_dev } from 'wrangler';
import { startOrigin, type OriginOptions } from '../tests/dispatch/spawn-origin';

interface Case {
  label: string;
  origin: OriginOptions;
  streams: number;
  tokens: number;
}

const CASES: Case[] = [
  {
    label: 'origin/ synthetic:tiny (CPU reference backend)',
    origin: { kind: 'real' },
    streams: 1,
    tokens: 1024,
  },
  {
    label: 'origin/ synthetic:tiny (CPU reference backend)',
    origin: { kind: 'real' },
    streams: 8,
    tokens: 1024,
  },
  {
    label: 'mini origin at full speed: the relay ceiling, not a target',
    origin: { kind: 'mini' },
    streams: 1,
    tokens: 4000,
  },
  {
    label: 'mini origin at full speed: the relay ceiling, not a target',
    origin: { kind: 'mini' },
    streams: 8,
    tokens: 2000,
  },
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
          model: 'tiny',
          messages: [{ role: 'user', content: `${tag} stream ${i}: once upon a time` }],
          max_tokens: tokens,
          temperature: 0,
          ignore_eos: true,
          stream: true,
          stream_options: { include_usage: true },
        }),
      });
      if (!res.ok) throw new Error(`${url} answered ${res.status}: ${await res.text()}`);
      let body = '';
      const decoder = new TextDecoder();
      const reader = res.body!.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        const text = decoder.decode(r.value, { stream: true });
        if (!body.includes('"content":"') && text.includes('"content":"'))
          firsts.push(performance.now() - started);
        body += text;
      }
      return Number(
        /"completion_tokens":(\d+)/.exec(body.slice(body.lastIndexOf('"usage"')))?.[1] ?? 0,
      );
    }),
  );
  return {
    tokPerS: counts.reduce((a, b) => a + b, 0) / ((performance.now() - started) / 1000),
    firstTokenMs: median(firsts),
  };
}

/** The relay Worker in workerd, in front of `upstream`. */
async function startRelay(
  upstream: string,
): Promise<{ url: string; pids: number[]; cpuMs: () => number; dispose: () => Promise<void> }> {
  // A config of its own: the project's wrangler.toml would bring D1, R2 and Durable Objects along.
  const config = join(mkdtempSync(join(tmpdir(), 'relay-bench-')), 'wrangler.toml');
  writeFileSync(
    config,
    'name = "relay-bench"\ncompatibility_date = "2026-08-01"\ncompatibility_flags = ["nodejs_compat"]\n',
  );
  const before = workerdPids();
  const worker = await unstable_dev(new URL('./relay-worker.ts', import.meta.url).pathname, {
    config,
    ip: '127.0.0.1',
    vars: { UPSTREAM: upstream },
    logLevel: 'error',
    experimental: { disableExperimentalWarning: true },
  });
  const pids = workerdPids().filter((p) => !before.includes(p));
  return {
    url: `http://127.0.0.1:${worker.port}`,
    pids,
    cpuMs: () => pids.reduce((sum, p) => sum + cpuMsOf(p), 0),
    dispose: () => worker.stop(),
  };
}

/** The origin's core and everyone else's, where taskset exists and there are cores to split. */
function pinning(): { origin: string; rest: string } | null {
  const n = availableParallelism();
  if (n < 2) return null;
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  return { origin: '0', rest: `1-${n - 1}` };
}

/** Running workerd processes (Miniflare's child). */
function workerdPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'workerd';
      } catch {
        return false;
      }
    });
}

/** User + system CPU of a process, in ms (Linux /proc; 100 clock ticks a second). */
function cpuMsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

export async function benchRelay(
  opts: { runs?: number; log?: (line: string) => void } = {},
): Promise<string> {
  const runs = opts.runs ?? 7;
  const log = opts.log ?? (() => {});
  const rows = [
    '| origin | streams | tokens/stream | direct tok/s | proxied tok/s | proxied / direct | first token direct | first token proxied | relay CPU per token |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const pin = pinning();
  for (const c of CASES) {
    const origin = await startOrigin({ ...c.origin, cpus: pin?.origin });
    const relay = await startRelay(origin.url);
    if (pin)
      for (const pid of [process.pid, ...relay.pids])
        execFileSync('taskset', ['-a', '-p', '-c', pin.rest, String(pid)], { stdio: 'ignore' });
    try {
      await round(origin.url, c.streams, 16, 'warm');
      await round(relay.url, c.streams, 16, 'warm');
      const direct: Round[] = [];
      const proxied: Round[] = [];
      let relayCpuUs = 0;
      for (let r = 0; r < runs; r++) {
        direct.push(await round(origin.url, c.streams, c.tokens, `d${r}`));
        const before = relay.cpuMs();
        proxied.push(await round(relay.url, c.streams, c.tokens, `p${r}`));
        relayCpuUs += (relay.cpuMs() - before) * 1000;
      }
      const [d, p] = [median(direct.map((x) => x.tokPerS)), median(proxied.map((x) => x.tokPerS))];
      const [fd, fp] = [
        median(direct.map((x) => x.firstTokenMs)),
        median(proxied.map((x) => x.firstTokenMs)),
      ];
      const perToken = relayCpuUs / (runs * c.streams * c.tokens);
      log(
        `${c.label}, ${c.streams} streams: direct ${d.toFixed(0)} tok/s, proxied ${p.toFixed(0)} tok/s, relay ${perToken.toFixed(1)} µs CPU/token`,
      );
      rows.push(
        `| ${c.label} | ${c.streams} | ${c.tokens} | ${d.toFixed(0)} | ${p.toFixed(0)} | ${(p / d).toFixed(2)}× | ${fd.toFixed(1)} ms | ${fp.toFixed(1)} ms | ${perToken.toFixed(1)} µs |`,
      );
    } finally {
      await relay.dispose();
      await origin.kill();
    }
  }
  return rows.join('\n');
}

// Run alone (not imported by bench/run.ts).
if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  benchRelay({ log: (l) => console.error(l) }).then(console.log, (err) => {
    console.error(err);
    process.exit(1);
  });
}
