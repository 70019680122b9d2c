// Prefill/decode separation (`npm run bench -- pd`; alone: `npx tsx bench/pd.ts [model]`, a model
// directory or synthetic:<preset>; PD_BENCH_MODEL): decoding streams run while long prompts (1-2K tokens)
// arrive at a fixed rate, on two origin processes pinned one per core (taskset), in four set-ups:
// decode-only (the streams alone on one origin, the other idle: the inter-token reference), decode-only
// beside a busy neighbour (the long prompts go to the other origin, whole: the machine as loaded as with
// separation, with no hand-off), 2 colocated origins (`--role both`, streams and long prompts split
// between them), and 1 prefill + 1 decode origin (`--role prefill` / `--role decode`: every request to the
// decode origin, which pulls long prompts' rows from the prefill origin). Reports p50/p99 inter-token
// latency of the decoding streams, TTFT of the long prompts, and the requests/s that met both SLOs: of
// closed-loop streams, so not DistServe's goodput (the highest open-loop rate served within the SLOs,
// bench/pd-goodput.ts). The arrival rate and SLOs are set from a lone long prompt's TTFT measured first.
import type { RunningOrigin } from '../origin/launch';
import { scrape } from './origin';
import { benchModel } from './pd-prompts';
import {
  cpuMs,
  printTable,
  runLoad,
  summarize,
  timedRequest,
  type LoadPlan,
  type Summary,
  type Timed,
} from './pd-load';
import { pdTable } from './pd-table';
import { pinnedOrigins, SEPARATED_ROLES } from './pd-origins';

/** Long prompts arrive every LONG_EVERY × a lone one's TTFT. */
const LONG_EVERY = Number(process.env.PD_BENCH_LONG_EVERY ?? 1.5);

export interface PdBenchOptions {
  /** A model directory or synthetic:<preset> (default synthetic:small). */
  model?: string;
  windowS?: number;
  decoders?: number;
  log?: (line: string) => void;
}

export async function benchPd(opts: PdBenchOptions = {}): Promise<string> {
  const preset = process.env.PD_BENCH_PRESET; // the first runs' knob
  const spec = opts.model ?? process.env.PD_BENCH_MODEL ?? `synthetic:${preset ?? 'small'}`;
  const windowMs = (opts.windowS ?? Number(process.env.PD_BENCH_WINDOW_S ?? 30)) * 1000;
  const decoders = opts.decoders ?? 4;
  const log = opts.log ?? ((line: string) => console.error(line));
  const m = benchModel(spec);
  const base: Omit<LoadPlan, 'decodeTo' | 'longTo' | 'longEveryMs'> = {
    model: m.id,
    textOf: m.textOf,
    decoders,
    decodeTokens: 64,
    windowMs,
    longTokens: m.longTokens,
    longMaxTokens: 16,
  };
  const rows: [string, Summary][] = [];
  /** Per set-up: CPU ms per generated token of the origin(s) that decode (pd-table.ts says which). */
  const cpu: number[] = [];
  let slo = { ttftMs: Infinity, tpotMs: Infinity },
    everyMs = 0,
    pinned = true,
    lone = 0;
  const setUp = async (
    roles: string[][],
    run: (os: RunningOrigin[]) => Promise<[string, Summary]>,
  ) => {
    const { os, pinned: p } = await pinnedOrigins(m, roles);
    pinned &&= p;
    try {
      const row = await run(os);
      rows.push(row);
      await logSteps(log, row[0], os);
    } finally {
      await Promise.all(os.map((o) => o.stop()));
    }
  };

  // Decode-only on one origin, and the calibration: a lone long prompt's TTFT on an idle origin.
  await setUp([[], []], async (os) => {
    await timedRequest(os[1].url, m.id, 'decode', m.textOf(24, 1), 8); // warm-up
    lone = (await timedRequest(os[0].url, m.id, 'long', m.textOf(m.loneTokens, 2), 4)).ttftMs;
    everyMs = Math.round(LONG_EVERY * lone); // long prompts keep one core ~2/3 busy
    const { t: only, cpuPerToken } = await measured([os[1]], () =>
      runLoad({ ...base, decodeTo: [os[1].url], longTo: [], longEveryMs: 0 }, 3),
    );
    cpu.push(cpuPerToken);
    const itl = summarize(only, windowMs, slo);
    slo = { ttftMs: 4 * lone, tpotMs: 1.5 * itl.itlP50 };
    log(
      `bench/pd: lone ${Math.round(lone)} ms TTFT; decode-only ITL p50 ${itl.itlP50.toFixed(1)} ms`,
    );
    return ['decode-only (1 origin, the other idle)', summarize(only, windowMs, slo)];
  });
  await setUp([[], []], async (os) => {
    const plan = { ...base, decodeTo: [os[1].url], longTo: [os[0].url], longEveryMs: everyMs };
    const { t, cpuPerToken } = await measured([os[1]], () => runLoad(plan, 6));
    cpu.push(cpuPerToken);
    const decoding = t.filter((x) => x.kind === 'decode'); // the neighbour's requests are not this row's
    return [
      'decode-only beside a busy neighbour (long prompts to the other origin)',
      summarize(decoding, windowMs, slo),
    ];
  });
  await setUp([[], []], async (os) => {
    const urls = os.map((o) => o.url);
    const { t, cpuPerToken } = await measured(os, () =>
      runLoad({ ...base, decodeTo: urls, longTo: urls, longEveryMs: everyMs }, 4),
    );
    cpu.push(cpuPerToken);
    return ['2 colocated (--role both)', summarize(t, windowMs, slo)];
  });
  await setUp(SEPARATED_ROLES, async (os) => {
    const d = [os[1].url];
    const { t, cpuPerToken } = await measured([os[1]], () =>
      runLoad({ ...base, decodeTo: d, longTo: d, longEveryMs: everyMs }, 5),
    );
    cpu.push(cpuPerToken);
    return ['1 prefill + 1 decode (--role prefill / decode)', summarize(t, windowMs, slo)];
  });
  return pdTable(
    m,
    { windowMs, decoders, everyMs, lone, slo, pinned, longEvery: LONG_EVERY },
    rows,
    cpu,
  );
}

const tokensOf = async (o: RunningOrigin) =>
  Number(
    /^origin_completion_tokens_total (\S+)$/m.exec(
      await (await fetch(`${o.url}/metrics`)).text(),
    )?.[1] ?? NaN,
  );

/** Runs a window; the CPU ms the `counted` origins used per token they generated in it. */
async function measured(
  counted: RunningOrigin[],
  window: () => Promise<Timed[]>,
): Promise<{ t: Timed[]; cpuPerToken: number }> {
  const cpu0 = counted.map(cpuMs),
    tok0 = await Promise.all(counted.map(tokensOf));
  const t = await window();
  const cpu = counted.reduce((a, o, i) => a + cpuMs(o) - cpu0[i], 0);
  const tok = (await Promise.all(counted.map(tokensOf))).reduce((a, n, i) => a + n - tok0[i], 0);
  return { t, cpuPerToken: cpu / tok };
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

if (import.meta.url === `file://${process.argv[1]}`) {
  printTable(benchPd({ model: process.argv[2] }));
}
