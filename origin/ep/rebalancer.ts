// The EP placement on a schedule (--ep-rebalance-s): EPLB (eplb.ts) over the expert load of each MoE
// layer routed since the previous rebalance, loaded into the ranks while steps go on, used from the next
// step once every rank has it (EpPool.place). A period without routed tokens keeps the placement. One
// rebalance at a time.
//
// Why the last period and not the lifetime (or the admin window, which only POST /admin/experts/reset
// restarts): a placement serves the traffic that follows it, and traffic shifts (bench/eplb.ts: a
// placement fitted on five kinds of text pooled leaves one kind at 1.03–1.07 rank max/mean on 4 ranks,
// worst layers to 1.10, against 1.01–1.02 for one fitted on that kind's own previous window). DeepSeek's
// EPLB likewise places from recent statistics, re-run periodically.
import { placeExperts } from './eplb';
import type { ExpertRuntime } from './expert-hooks';
import type { ExpertStats } from './expert-stats';

/** Load per [layer][expert] since the previous call (the first: since start), from the lifetime totals. */
export function loadPeriods(stats: ExpertStats): () => number[][] {
  const seen = stats.total.map((t) => Float64Array.from(t));
  return () =>
    stats.total.map((t, i) => {
      const period = Array.from(t, (c, e) => c - seen[i][e]);
      seen[i].set(t);
      return period;
    });
}

export function startRebalancer(
  rt: ExpertRuntime,
  everyS: number,
  log = console.error,
): () => void {
  const pool = rt.pool;
  if (!pool || everyS <= 0) return () => {};
  const nextPeriod = loadPeriods(rt.stats);
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    const load = nextPeriod();
    if (load.every((l) => l.every((c) => c === 0))) return;
    busy = true;
    const ranks = pool.placements[0].ranks;
    pool
      .place(load.map((l) => placeExperts(l, ranks, rt.redundant)))
      .catch((err: unknown) => log(`origin: EP rebalance failed: ${String(err)}`))
      .finally(() => (busy = false));
  }, everyS * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
