// The dispatcher's relay: tokens/s a client gets through it vs straight from the origin, and what it
// costs workerd. The relay is the Worker's own code path (dispatch/upstream.ts openUpstream →
// dispatch/relay.ts relayResponse) as a Worker (bench/relay-worker.ts) in workerd, hosted by
// bench/relay-workerd.ts: Miniflare alone by default, as production runs a Worker; RELAY_HOST=wrangler
// puts wrangler's dev proxy in the path (and in the CPU count), as `npm start` does. RELAY_ROOT bundles
// the Worker from another checkout (before/after, one harness). Two origins: the real one (`origin/`,
// synthetic:tiny, CPU reference backend), which writes client-ready streams that the relay pipes on
// unread (dispatch/relay-piped.ts), and the mini origin at full speed (tests/dispatch/mini-origin.ts:
// frames as fast as Node writes them), which does not, so the relay reads it frame by frame.
// Aggregate completion tokens/s of N concurrent streams, direct and proxied rounds interleaved,
// median of the runs. Target: proxied ≥ 0.9× direct. Also the time to the first token each way,
// and workerd's CPU time per relayed token (from /proc; its idle CPU, watched for 3 s first, taken
// out). On a machine of a few cores the origin gets the first core to itself (taskset) and the client
// and the relay share the rest, as if they ran on other machines: otherwise the relay's CPU would be
// measured as the origin's loss. Beside the relay, in the same rounds, interleaved: `read` (the relay
// reading every frame, as for an origin that cannot write client-ready frames; RELAY_READ=0 leaves it
// out), `native` (the origin's body handed to workerd untouched: the least any relay costs;
// RELAY_NATIVE=0), `identity` (that body through an IdentityTransformStream, the piped relay's
// plumbing without its JS, so relay − identity is the JS it runs; RELAY_IDENTITY=0), and with
// RELAY_FLOOR=1 `pass-through` (a bare JS read-and-enqueue: the least a reading relay costs).
// RELAY_BEFORE=<checkout> adds that checkout's relay in front of that checkout's real origin.
// RELAY_STREAM_INTERVAL_MS sets the real origin's --stream-interval-ms. Run alone: `npx tsx
// bench/relay.ts` (RELAY_CASES=0,2, RELAY_RUNS=3, RELAY_TOKENS=32 for a quick look; a short stream
// shows the per-request part of the CPU).
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRelay, type RelayHost, type RelayVariant } from './relay-workerd';
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

/** How long each workerd is watched idle before the rounds. */
const IDLE_MS = 3_000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Round {
  tokPerS: number;
  /** Wall time of the round. */
  ms: number;
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
  const ms = performance.now() - started;
  return {
    ms,
    tokPerS: counts.reduce((a, b) => a + b, 0) / (ms / 1000),
    firstTokenMs: median(firsts),
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

/** The Workers measured side by side: the relay, optionally an older one, and the bare JS pass-through. */
function variants(): { name: string; v: RelayVariant }[] {
  const out: { name: string; v: RelayVariant }[] = [{ name: 'relay', v: {} }];
  // The relay reading every frame, as for an origin that cannot write client-ready frames (RELAY_READ=0 leaves it out).
  if (process.env.RELAY_READ !== '0') out.push({ name: 'read', v: { mode: 'read' } });
  // RELAY_BEFORE=<checkout>: that checkout's relay too, in the same rounds (before/after, one run).
  if (process.env.RELAY_BEFORE) out.push({ name: 'before', v: { root: process.env.RELAY_BEFORE } });
  // The least a Worker that reads its chunks in JS can do (RELAY_FLOOR=1 adds it).
  if (process.env.RELAY_FLOOR === '1') out.push({ name: 'pass-through', v: { mode: 'js' } });
  // The origin's body handed to workerd untouched: the least any relay can cost (RELAY_NATIVE=0 leaves it out).
  if (process.env.RELAY_NATIVE !== '0') out.push({ name: 'native', v: { mode: 'native' } });
  // The piped relay's plumbing without its JS: relay − identity is the JS it runs (RELAY_IDENTITY=0 leaves it out).
  if (process.env.RELAY_IDENTITY !== '0') out.push({ name: 'identity', v: { mode: 'identity' } });
  return out;
}

export async function benchRelay(
  opts: { runs?: number; log?: (line: string) => void } = {},
): Promise<string> {
  const runs = opts.runs ?? Number(process.env.RELAY_RUNS ?? 7);
  // RELAY_CASES=0,2 runs only those rows (a quick look while working; RESULTS.md takes all).
  const only = process.env.RELAY_CASES?.split(',').map(Number);
  // RELAY_STREAM_INTERVAL_MS: the real origin's --stream-interval-ms (default: the origin's own).
  const interval = process.env.RELAY_STREAM_INTERVAL_MS;
  const log = opts.log ?? (() => {});
  const names = variants().map((x) => x.name);
  const extra = names.slice(1);
  const rows = [
    `| origin | streams | tokens/stream | direct tok/s | proxied tok/s | proxied / direct | first token direct | first token proxied | relay CPU per token |${extra.map((n) => ` ${n}: CPU per token; first token |`).join('')}${names.includes('identity') ? ' relay − identity: its JS |' : ''}`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |${extra.map(() => ' ---: |').join('')}${names.includes('identity') ? ' ---: |' : ''}`,
  ];
  const pin = pinning();
  for (const c0 of CASES.filter((_, i) => !only || only.includes(i))) {
    const c = process.env.RELAY_TOKENS ? { ...c0, tokens: Number(process.env.RELAY_TOKENS) } : c0;
    const args = c.origin.kind === 'real' && interval ? ['--stream-interval-ms', interval] : [];
    const origin = await startOrigin({ ...c.origin, args, cpus: pin?.origin });
    const origins = [origin];
    const hosts: RelayHost[] = [];
    try {
      for (const { v } of variants()) {
        // RELAY_BEFORE's relay in front of that checkout's real origin (its writes as they were)
        const own =
          v.root && c.origin.kind === 'real'
            ? await startOrigin({ ...c.origin, root: v.root, cpus: pin?.origin })
            : origin;
        if (own !== origin) origins.push(own);
        hosts.push(await startRelay(own.url, v));
      }
      if (pin)
        for (const pid of [process.pid, ...hosts.flatMap((h) => h.pids)])
          execFileSync('taskset', ['-a', '-p', '-c', pin.rest, String(pid)], { stdio: 'ignore' });
      await round(origin.url, c.streams, 16, 'warm');
      for (const h of hosts) await round(h.url, c.streams, 16, 'warm');
      // What each workerd burns doing nothing (timers, GC), per ms of wall time: a slow stream's
      // round is long, and this is not the relay's cost, so it is taken out of each round's CPU.
      const idle = await Promise.all(
        hosts.map(async (h) => {
          const cpu = h.cpuMs();
          const t = performance.now();
          await new Promise((r) => setTimeout(r, IDLE_MS));
          return (h.cpuMs() - cpu) / (performance.now() - t);
        }),
      );
      const direct: Round[] = [];
      const proxied: Round[][] = hosts.map(() => []);
      const cpuUs = hosts.map(() => 0);
      for (let r = 0; r < runs; r++) {
        direct.push(await round(origin.url, c.streams, c.tokens, `d${r}`));
        // interleaved: each Worker in every run, so the machine's load falls on all of them alike
        for (const [i, h] of hosts.entries()) {
          const before = h.cpuMs();
          const p = await round(h.url, c.streams, c.tokens, `p${i}-${r}`);
          proxied[i].push(p);
          cpuUs[i] += (h.cpuMs() - before - idle[i] * p.ms) * 1000;
        }
      }
      const d = median(direct.map((x) => x.tokPerS));
      const p = median(proxied[0].map((x) => x.tokPerS));
      const fd = median(direct.map((x) => x.firstTokenMs));
      const first = proxied.map((rs) => median(rs.map((x) => x.firstTokenMs)));
      const perToken = cpuUs.map((us) => us / (runs * c.streams * c.tokens));
      const floor = names.indexOf('identity');
      const over =
        floor < 0
          ? ''
          : ` ${(perToken[0] - perToken[floor]).toFixed(1)} µs (${(perToken[0] / perToken[floor]).toFixed(2)}×) |`;
      log(
        `${c.label}, ${c.streams} streams: idle CPU ${names.map((n, i) => `${n} ${(idle[i] * 1000).toFixed(1)} µs/ms`).join(', ')}; ` +
          `direct ${d.toFixed(0)} tok/s, proxied ${p.toFixed(0)} tok/s, ` +
          names.map((n, i) => `${n} ${perToken[i].toFixed(1)} µs CPU/token`).join(', '),
      );
      rows.push(
        `| ${c.label} | ${c.streams} | ${c.tokens} | ${d.toFixed(0)} | ${p.toFixed(0)} | ${(p / d).toFixed(2)}× | ${fd.toFixed(1)} ms | ${first[0].toFixed(1)} ms | ${perToken[0].toFixed(1)} µs |` +
          extra
            .map((_, j) => ` ${perToken[j + 1].toFixed(1)} µs; ${first[j + 1].toFixed(1)} ms |`)
            .join('') +
          over,
      );
    } finally {
      for (const h of hosts) await h.dispose();
      for (const o of origins) await o.kill();
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
