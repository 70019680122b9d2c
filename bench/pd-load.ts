// The load of bench/pd.ts: decoding streams that run the whole window, long prompts arriving at a fixed
// rate, each request timed token by token (chat with logprobs: every token leaves its own SSE event,
// even one whose bytes do not yet make a character), and the summary: inter-token latency of the
// decoding streams, time to first token of the long prompts, requests/s meeting two SLOs.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { RunningOrigin } from '../origin/launch';

export interface Timed {
  kind: 'decode' | 'long';
  ttftMs: number;
  /** Gaps between consecutive tokens (ms). */
  gaps: number[];
}

/** One streaming chat request; the time of every token it gets. */
export async function timedRequest(
  url: string,
  model: string,
  kind: Timed['kind'],
  content: string,
  maxTokens: number,
): Promise<Timed> {
  const started = performance.now();
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model,
      messages: [{ role: 'user', content }],
      max_tokens: maxTokens,
      temperature: 0,
      ignore_eos: true,
      logprobs: true,
      stream: true,
    }),
  });
  if (!res.ok) throw new Error(`origin answered ${res.status}: ${await res.text()}`);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const times: number[] = [];
  let buf = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const now = performance.now();
    buf += value;
    let cut: number;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      if (!frame.startsWith('data: {')) continue;
      const n = (JSON.parse(frame.slice(6)).choices?.[0]?.logprobs?.content ?? []).length as number;
      for (let i = 0; i < n; i++) times.push(now);
    }
  }
  if (times.length === 0) throw new Error('no tokens');
  return {
    kind,
    ttftMs: times[0] - started,
    gaps: times.slice(1).map((t, i) => t - times[i]),
  };
}

export interface LoadPlan {
  /** Where decoding streams and long prompts go (round robin over each list). */
  decodeTo: string[];
  longTo: string[];
  model: string;
  /** A prompt of n tokens, different for each seed (pd-prompts.ts). */
  textOf: (n: number, seed: number) => string;
  decoders: number;
  decodeTokens: number;
  windowMs: number;
  /** Between long prompts; 0: none. */
  longEveryMs: number;
  longTokens: [number, number];
  longMaxTokens: number;
}

/** Runs the window: decoders restart until it closes; long prompts arrive on the clock. */
export async function runLoad(p: LoadPlan, seed: number): Promise<Timed[]> {
  const out: Timed[] = [];
  const end = performance.now() + p.windowMs;
  let n = seed * 10_000;
  const decoder = async (i: number) => {
    while (performance.now() < end)
      out.push(
        await timedRequest(
          p.decodeTo[i % p.decodeTo.length],
          p.model,
          'decode',
          p.textOf(24, n++),
          p.decodeTokens,
        ),
      );
  };
  const longs: Promise<void>[] = [];
  const arrivals = async () => {
    for (let k = 0; p.longEveryMs > 0 && performance.now() < end; k++) {
      const [lo, hi] = p.longTokens;
      const len = lo + ((k * 389) % (hi - lo));
      const url = p.longTo[k % p.longTo.length];
      longs.push(
        timedRequest(url, p.model, 'long', p.textOf(len, n++), p.longMaxTokens).then(
          (t) => void out.push(t),
        ),
      );
      await new Promise((r) => setTimeout(r, p.longEveryMs));
    }
  };
  await Promise.all([...Array.from({ length: p.decoders }, (_, i) => decoder(i)), arrivals()]);
  await Promise.all(longs);
  return out;
}

export const pct = (xs: number[], q: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

export interface Summary {
  itlP50: number;
  itlP99: number;
  itlP999: number;
  /** p90 over decoding requests of each one's mean inter-token time (DistServe's TPOT). */
  tpotP90: number;
  ttftP50: number;
  ttftP99: number;
  longs: number;
  requests: number;
  /** Share of requests meeting both SLOs. */
  attainment: number;
  goodput: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Requests/s whose TTFT and mean time per output token both meet the SLOs (closed loop: see pd.ts). */
export function summarize(
  ts: Timed[],
  windowMs: number,
  slo: { ttftMs: number; tpotMs: number },
): Summary {
  const decoding = ts.filter((t) => t.kind === 'decode');
  const decodeGaps = decoding.flatMap((t) => t.gaps);
  const ttfts = ts.filter((t) => t.kind === 'long').map((t) => t.ttftMs);
  const good = ts.filter((t) => t.ttftMs <= slo.ttftMs && mean(t.gaps) <= slo.tpotMs).length;
  return {
    itlP50: pct(decodeGaps, 0.5),
    itlP99: pct(decodeGaps, 0.99),
    itlP999: pct(decodeGaps, 0.999),
    tpotP90: pct(
      decoding.map((t) => mean(t.gaps)),
      0.9,
    ),
    ttftP50: pct(ttfts, 0.5),
    ttftP99: pct(ttfts, 0.99),
    longs: ttfts.length,
    requests: ts.length,
    attainment: good / Math.max(1, ts.length),
    goodput: good / (windowMs / 1000),
  };
}

/** The processes of an origin's group (npm, sh, tsx, node). */
const groupPids = (o: RunningOrigin) =>
  execFileSync('ps', ['-o', 'pid=', '-g', String(o.child.pid)], { encoding: 'utf8' })
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * CPU time (user + system, ms) an origin's processes have used: work done, whatever share of a core the
 * machine left them, so it compares set-ups on a loaded machine where wall times cannot. Linux /proc.
 */
export function cpuMs(o: RunningOrigin): number {
  let ticks = 0;
  for (const pid of groupPids(o)) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
      ticks += Number(rest[11]) + Number(rest[12]); // utime, stime: fields 14, 15
    } catch {
      // a process that has just exited
    }
  }
  return ticks * 10; // USER_HZ = 100 on Linux
}

/** Pins every process of an origin's group (npm, sh, node) to one CPU, when taskset exists. */
export function pin(o: RunningOrigin, cpu: number): boolean {
  try {
    const pids = groupPids(o);
    for (const pid of pids)
      execFileSync('taskset', ['-a', '-cp', String(cpu), pid], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A bench run alone: its table on stdout, exit 0; or its error on stderr, exit 1. */
export function printTable(table: Promise<string>): void {
  table
    .then((t) => {
      console.log(t);
      process.exit(0);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
