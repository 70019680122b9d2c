// The EP placement on a schedule (--ep-rebalance-s): EPLB (eplb.ts) over the current window's expert load
// of each MoE layer, loaded into the ranks while steps go on, used from the next step once every rank has
// it (EpPool.place). A window without routed tokens keeps the placement. One rebalance at a time.
import { placeExperts } from './eplb';
import type { ExpertRuntime } from './expert-hooks';

export function startRebalancer(
  rt: ExpertRuntime,
  everyS: number,
  log = console.error,
): () => void {
  const pool = rt.pool;
  if (!pool || everyS <= 0) return () => {};
  let busy = false;
  const timer = setInterval(() => {
    const load = rt.stats.snapshot();
    if (busy || load.every((l) => l.tokens === 0)) return;
    busy = true;
    const ranks = pool.placements[0].ranks;
    pool
      .place(load.map((l) => placeExperts(l.counts, ranks, rt.redundant)))
      .catch((err: unknown) => log(`origin: EP rebalance failed: ${String(err)}`))
      .finally(() => (busy = false));
  }, everyS * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
