// bench/pd.ts's report: the set-up line and one row per set-up; p99 ratios against both decode-only
// references (the other core idle, and the other core prefilling the same long prompts).
import type { BenchModel } from './pd-prompts';
import type { Summary } from './pd-load';

export interface PdSetup {
  windowMs: number;
  decoders: number;
  everyMs: number;
  lone: number;
  slo: { ttftMs: number; tpotMs: number };
  pinned: boolean;
  longEvery: number;
}

export function pdTable(
  m: BenchModel,
  c: PdSetup,
  rows: [string, Summary][],
  cpu: number[],
): string {
  const idle = rows[0][1].itlP99,
    busy = rows[1][1].itlP99;
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—');
  return [
    `\`${m.spec}\`, CPU backend; ${c.decoders} decoding streams (24-token prompt, 64 tokens, restarted) for ${c.windowMs / 1000} s; ` +
      `long prompts of ${m.longTokens.join('-')} tokens (16 tokens out) every ${c.everyMs} ms (${c.longEvery} × a lone ${m.loneTokens}-token prompt's TTFT, ${Math.round(c.lone)} ms); ` +
      `SLOs: TTFT ≤ ${Math.round(c.slo.ttftMs)} ms (4 × lone), mean inter-token ≤ ${f(c.slo.tpotMs)} ms (1.5 × decode-only p50); ` +
      `origins ${c.pinned ? 'pinned one per core (taskset -c 0 / -c 1)' : 'not pinned (no taskset)'}, the bench client not pinned. ` +
      'The busy-neighbour row counts only its decoding streams (its long prompts are the other origin’s). ' +
      'CPU/token: user + system CPU time of the origin that decodes (both origins when colocated, prefill included) ' +
      'over the tokens it generated in the window, from /proc: work, not wall time, so it holds on a loaded machine.',
    '',
    '| set-up | CPU/token (ms) | ITL p50 (ms) | ITL p99 (ms) | p99 vs decode-only | p99 vs busy neighbour | ITL p99.9 (ms) | TPOT p90 (ms) | TTFT p50 (ms) | TTFT p99 (ms) | long prompts | requests | SLO met | met SLOs, closed loop (req/s) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      ([name, s], i) =>
        `| ${name} | ${cpu[i].toFixed(2)} | ${f(s.itlP50)} | ${f(s.itlP99)} | ${(s.itlP99 / idle).toFixed(2)}× | ${(s.itlP99 / busy).toFixed(2)}× | ${f(s.itlP999)} | ${f(s.tpotP90)} | ${f(s.ttftP50)} | ${f(s.ttftP99)} | ${s.longs} | ${s.requests} | ${(100 * s.attainment).toFixed(0)}% | ${s.goodput.toFixed(2)} |`,
    ),
  ].join('\n');
}
