// Prefill/decode separation (`npm run bench -- pd`; alone: `npx tsx bench/pd.ts [preset]`): decoding
// streams run while long prompts (1-2K tokens) arrive at a fixed rate, on two origin processes pinned
// one per core (taskset), in three set-ups: decode-only (the streams alone on one origin: the inter-token
// reference), 2 colocated origins (`--role both`, streams and long prompts split between them), and
// 1 prefill + 1 decode origin (`--role prefill` / `--role decode`: every request to the decode origin,
// which pulls long prompts' rows from the prefill origin). Reports p50/p99 inter-token latency of the
// decoding streams, TTFT of the long prompts, and goodput (requests/s meeting both SLOs, DistServe's
// measure). The arrival rate and SLOs are set from a lone long prompt's TTFT measured first.
import { startOrigin, type RunningOrigin } from '../origin/launch';
import { scrape } from './origin';
import {
  pin,
  runLoad,
  summarize,
  textOf,
  timedRequest,
  type LoadPlan,
  type Summary,
} from './pd-load';

const SECRET = 'bench-pd';
/** Long prompts arrive every LONG_EVERY × a lone one's TTFT. */
const LONG_EVERY = Number(process.env.PD_BENCH_LONG_EVERY ?? 1.5);

export interface PdBenchOptions {
  preset?: string;
  windowS?: number;
  decoders?: number;
  log?: (line: string) => void;
}

async function origins(
  preset: string,
  roles: string[][],
): Promise<{ os: RunningOrigin[]; pinned: boolean }> {
  const os: RunningOrigin[] = [];
  let pinned = true;
  for (const [i, extra] of roles.entries()) {
    const args = ['--model', `synthetic:${preset}`, '--backend', 'cpu', '--prefix-cache-mb', '0'];
    const o = await startOrigin(
      [...args, ...extra.map((a) => a.replace('$0', os[0]?.url ?? ''))],
      300_000,
      {
        ORIGIN_INTERNAL_SECRET: SECRET,
      },
    );
    pinned = pin(o, i % 2) && pinned;
    os.push(o);
  }
  return { os, pinned };
}

export async function benchPd(opts: PdBenchOptions = {}): Promise<string> {
  const preset = opts.preset ?? process.env.PD_BENCH_PRESET ?? 'small';
  const windowMs = (opts.windowS ?? Number(process.env.PD_BENCH_WINDOW_S ?? 30)) * 1000;
  const decoders = opts.decoders ?? 4;
  const log = opts.log ?? ((line: string) => console.error(line));
  const model = `synthetic-${preset}`;
  const base: Omit<LoadPlan, 'decodeTo' | 'longTo' | 'longEveryMs'> = {
    model,
    decoders,
    decodeTokens: 64,
    windowMs,
    longTokens: [1024, 2048 - 64],
    longMaxTokens: 16,
  };
  const rows: [string, Summary][] = [];
  let slo: { ttftMs: number; tpotMs: number },
    everyMs: number,
    pinned = true,
    lone: number;

  // Decode-only on one origin, and the calibration: a lone long prompt's TTFT on an idle origin.
  {
    const { os, pinned: p } = await origins(preset, [[], []]);
    pinned &&= p;
    try {
      await timedRequest(os[1].url, model, 'decode', textOf(24, 1), 8); // warm-up
      lone = (await timedRequest(os[0].url, model, 'long', textOf(1536, 2), 4)).ttftMs;
      everyMs = Math.round(LONG_EVERY * lone); // long prompts keep one core ~2/3 busy
      const only = await runLoad({ ...base, decodeTo: [os[1].url], longTo: [], longEveryMs: 0 }, 3);
      const itl = summarize(only, windowMs, { ttftMs: Infinity, tpotMs: Infinity });
      slo = { ttftMs: 4 * lone, tpotMs: 1.5 * itl.itlP50 };
      rows.push(['decode-only (1 origin, no long prompts)', summarize(only, windowMs, slo)]);
      await logSteps(log, 'decode-only', [os[1]]);
      log(
        `bench/pd: lone ${Math.round(lone)} ms TTFT; decode-only ITL p50 ${itl.itlP50.toFixed(1)} ms`,
      );
    } finally {
      await Promise.all(os.map((o) => o.stop()));
    }
  }
  {
    const { os, pinned: p } = await origins(preset, [[], []]);
    pinned &&= p;
    try {
      const urls = os.map((o) => o.url);
      const t = await runLoad({ ...base, decodeTo: urls, longTo: urls, longEveryMs: everyMs }, 4);
      rows.push(['2 colocated (--role both)', summarize(t, windowMs, slo)]);
      await logSteps(log, 'colocated', os);
      log(`bench/pd: colocated done`);
    } finally {
      await Promise.all(os.map((o) => o.stop()));
    }
  }
  {
    const { os, pinned: p } = await origins(preset, [
      ['--role', 'prefill'],
      ['--role', 'decode', '--prefill-origins', '$0', '--handoff-min-tokens', '256'],
    ]);
    pinned &&= p;
    try {
      const d = [os[1].url];
      const t = await runLoad({ ...base, decodeTo: d, longTo: d, longEveryMs: everyMs }, 5);
      rows.push(['1 prefill + 1 decode (--role prefill / decode)', summarize(t, windowMs, slo)]);
      await logSteps(log, 'prefill origin / decode origin', os);
      log(`bench/pd: disaggregated done`);
    } finally {
      await Promise.all(os.map((o) => o.stop()));
    }
  }
  return table(preset, { windowMs, decoders, everyMs, lone, slo, pinned }, rows);
}

/** Each origin's forward steps: mean time and sequences per step (its /metrics). */
async function logSteps(
  log: (l: string) => void,
  what: string,
  os: RunningOrigin[],
): Promise<void> {
  const parts = await Promise.all(
    os.map(async (o) => {
      const m = await scrape(o);
      const ms = (1000 * m.origin_step_seconds_sum) / m.origin_step_seconds_count;
      const batch = m.origin_batch_size_sum / m.origin_batch_size_count;
      return `${m.origin_step_seconds_count} steps of ${ms.toFixed(1)} ms, ${batch.toFixed(1)} seqs`;
    }),
  );
  log(`bench/pd: ${what}: ${parts.join(' / ')}`);
}

function table(
  preset: string,
  c: {
    windowMs: number;
    decoders: number;
    everyMs: number;
    lone: number;
    slo: { ttftMs: number; tpotMs: number };
    pinned: boolean;
  },
  rows: [string, Summary][],
): string {
  const ref = rows[0][1].itlP99;
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—');
  return [
    `synthetic:${preset}, CPU backend; ${c.decoders} decoding streams (24-token prompt, 64 tokens, restarted) for ${c.windowMs / 1000} s; ` +
      `long prompts of 1024-1984 tokens (16 tokens out) every ${c.everyMs} ms (${LONG_EVERY} × a lone one's TTFT, ${Math.round(c.lone)} ms); ` +
      `SLOs: TTFT ≤ ${Math.round(c.slo.ttftMs)} ms (4 × lone), mean inter-token ≤ ${f(c.slo.tpotMs)} ms (1.5 × decode-only p50); ` +
      `origins ${c.pinned ? 'pinned one per core (taskset -c 0 / -c 1)' : 'not pinned (no taskset)'}.`,
    '',
    '| set-up | ITL p50 (ms) | ITL p99 (ms) | p99 vs decode-only | ITL p99.9 (ms) | TPOT p90 (ms) | TTFT p50 (ms) | TTFT p99 (ms) | long prompts | requests | SLO met | goodput (req/s) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      ([name, s]) =>
        `| ${name} | ${f(s.itlP50)} | ${f(s.itlP99)} | ${(s.itlP99 / ref).toFixed(2)}× | ${f(s.itlP999)} | ${f(s.tpotP90)} | ${f(s.ttftP50)} | ${f(s.ttftP99)} | ${s.longs} | ${s.requests} | ${(100 * s.attainment).toFixed(0)}% | ${s.goodput.toFixed(2)} |`,
    ),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchPd({ preset: process.argv[2] })
    .then((t) => console.log(t))
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
