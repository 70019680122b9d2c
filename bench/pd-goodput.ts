// Goodput as DistServe defines it (`npm run bench -- pd-goodput`; alone: `npx tsx bench/pd-goodput.ts
// [model]`): requests, each a long prompt (the pd bench's 1-2K tokens, or half to all of a shorter
// context) and a 64-token greedy decode, arrive open-loop at a Poisson rate; a request attains the SLOs
// when its TTFT and its time per output token (mean gap after the first token) both meet theirs; goodput
// is the highest rate at which ≥ 90% of requests attain them. The rate is searched (doubling or halving
// until the outcome flips, then bisecting) on two pinned origins: 2 colocated (requests alternate) and
// 1 prefill + 1 decode (every request to the decode origin, which pulls its prompt's rows). SLOs come
// from lone numbers on the idle pair, as bench/pd.ts sets them: TTFT ≤ 4 × a lone long prompt's TTFT,
// TPOT ≤ 1.5 × the inter-token p50 of 4 decoding streams alone.
import type { RunningOrigin } from '../origin/launch';
import { pct, printTable, timedRequest, type Timed } from './pd-load';
import { pinnedOrigins, SEPARATED_ROLES } from './pd-origins';
import { benchModel, type BenchModel } from './pd-prompts';
import { sweepRate, type Trial } from './pd-sweep';

const OUT_TOKENS = 64;

interface Slo {
  ttftMs: number;
  tpotMs: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Unit exponential gaps and prompt lengths, the same for every rate and set-up (seeded). */
function workload(m: BenchModel, n: number): { gaps: number[]; lengths: number[] } {
  let s = 0x9e3779b9;
  const rand = () => {
    s = (s + 0x6d2b79f5) | 0; // mulberry32
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const [lo, hi] = m.longTokens;
  const gaps = Array.from({ length: n }, () => -Math.log(1 - rand()));
  return { gaps, lengths: gaps.map(() => lo + Math.floor(rand() * (hi - lo))) };
}

/** One trial: `n` requests at `rate`/s, round robin over `urls`; the share that attains the SLOs. */
async function trial(m: BenchModel, urls: string[], rate: number, n: number, slo: Slo) {
  const { gaps, lengths } = workload(m, n);
  const started = performance.now();
  let at = 0;
  // a refused request (503 at capacity) is one that missed its SLOs
  const runs: Promise<Timed | null>[] = [];
  for (let k = 0; k < n; k++) {
    at += (1000 * gaps[k]) / rate;
    await new Promise((r) => setTimeout(r, Math.max(0, started + at - performance.now())));
    const text = m.textOf(lengths[k], 50_000 + k);
    runs.push(
      timedRequest(urls[k % urls.length], m.id, 'long', text, OUT_TOKENS).catch(() => null),
    );
  }
  const ts = (await Promise.all(runs)).filter((t) => t !== null);
  const tpots = ts.map((t) => mean(t.gaps));
  const met = ts.filter((t, i) => t.ttftMs <= slo.ttftMs && tpots[i] <= slo.tpotMs).length;
  return {
    rate,
    requests: n,
    attainment: met / n,
    ttftP50: pct(
      ts.map((t) => t.ttftMs),
      0.5,
    ),
    ttftP90: pct(
      ts.map((t) => t.ttftMs),
      0.9,
    ),
    tpotP50: pct(tpots, 0.5),
    tpotP90: pct(tpots, 0.9),
  };
}

/** The lone numbers the SLOs come from, on an idle origin. */
async function calibrate(m: BenchModel, o: RunningOrigin): Promise<{ lone: number; itl: number }> {
  await timedRequest(o.url, m.id, 'decode', m.textOf(24, 1), 8); // warm-up
  const lone = (await timedRequest(o.url, m.id, 'long', m.textOf(m.loneTokens, 2), 4)).ttftMs;
  const gaps: number[] = [];
  for (let round = 0; round < 3; round++) {
    const ts = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        timedRequest(o.url, m.id, 'decode', m.textOf(24, 10 + 4 * round + i), OUT_TOKENS),
      ),
    );
    gaps.push(...ts.flatMap((t) => t.gaps));
  }
  return { lone, itl: pct(gaps, 0.5) };
}

export async function benchPdGoodput(
  opts: { model?: string; log?: (line: string) => void } = {},
): Promise<string> {
  const spec = opts.model ?? process.env.PD_BENCH_MODEL ?? 'synthetic:small';
  const log = opts.log ?? ((line: string) => console.error(line));
  const m = benchModel(spec);
  const sweeps: [string, { goodput: number; trials: Trial[] }][] = [];
  let slo: Slo = { ttftMs: 0, tpotMs: 0 },
    lone = 0,
    pinned = true;
  const sweep = async (
    name: string,
    roles: string[][],
    urls: (os: RunningOrigin[]) => string[],
  ) => {
    const { os, pinned: p } = await pinnedOrigins(m, roles);
    pinned &&= p;
    try {
      if (lone === 0) {
        const c = await calibrate(m, os[0]);
        lone = c.lone;
        slo = { ttftMs: 4 * c.lone, tpotMs: 1.5 * c.itl };
        log(
          `bench/pd-goodput: lone TTFT ${lone.toFixed(0)} ms, 4-stream ITL p50 ${c.itl.toFixed(1)} ms`,
        );
      }
      for (const o of os) await timedRequest(o.url, m.id, 'decode', m.textOf(300, 3), 4); // warm-up
      const start = 250 / lone; // a quarter of the rate one core prefills lone prompts at
      const result = await sweepRate(
        start,
        (rate, n) => trial(m, urls(os), rate, n, slo),
        (t) =>
          log(
            `bench/pd-goodput: ${name}: ${t.rate.toFixed(2)} req/s, ${(100 * t.attainment).toFixed(0)}% attain`,
          ),
      );
      sweeps.push([name, result]);
    } finally {
      await Promise.all(os.map((o) => o.stop()));
    }
  };
  await sweep('2 colocated (--role both)', [[], []], (os) => os.map((o) => o.url));
  await sweep('1 prefill + 1 decode (--role prefill / decode)', SEPARATED_ROLES, (os) => [
    os[1].url,
  ]);
  const f = (x: number) => x.toFixed(1);
  return [
    `\`${m.spec}\`, CPU backend; requests of a ${m.longTokens.join('-')}-token prompt (uniform) and ${OUT_TOKENS} greedy tokens, Poisson arrivals (the same seeded sequence at every rate); ` +
      `SLOs: TTFT ≤ ${Math.round(slo.ttftMs)} ms (4 × a lone ${m.loneTokens}-token prompt's ${Math.round(lone)} ms), TPOT ≤ ${f(slo.tpotMs)} ms (1.5 × 4 streams' ITL p50 alone); ` +
      `goodput: the highest rate tried with ≥ 90% of requests attaining both; origins ${pinned ? 'pinned one per core' : 'not pinned (no taskset)'}; colocated requests alternate between the two.`,
    '',
    '| set-up | goodput (req/s) | rate (req/s) | requests | attain | TTFT p50 / p90 (ms) | TPOT p50 / p90 (ms) |',
    '|---|---|---|---|---|---|---|',
    ...sweeps.flatMap(([name, s]) =>
      [...s.trials]
        .sort((a, b) => a.rate - b.rate)
        .map(
          (t, i) =>
            `| ${i === 0 ? name : ''} | ${i === 0 ? s.goodput.toFixed(2) : ''} | ${t.rate.toFixed(2)} | ${t.requests} | ${(100 * t.attainment).toFixed(0)}% | ${f(t.ttftP50)} / ${f(t.ttftP90)} | ${f(t.tpotP50)} / ${f(t.tpotP90)} |`,
        ),
    ),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  printTable(benchPdGoodput({ model: process.argv[2] }));
}
