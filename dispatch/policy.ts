// Which origin gets a request: healthy origins only; among them prefix affinity by weighted
// rendezvous hashing on the hash of the prompt's first block(s), so a repeated prefix lands where
// its KV blocks are cached; bounded by load, so a hot prefix spills to the next choice instead of
// piling onto one origin. A pure function of its inputs: the same state gives the same order.
import type { OriginSnapshot } from './health';
import type { OriginConfig } from './registry';

export interface PolicyLimits {
  /** Requests in flight per origin at which it is saturated (skipped). */
  maxConcurrency: number;
  /** Reported queue depth at which it is saturated. */
  maxQueue: number;
  /** Bounded-load factor c: an origin over c × the pool's mean load yields to the next choice. */
  loadFactor: number;
  /** Below this many requests in flight an origin keeps its prefixes whatever the mean (batching is cheap). */
  minLoadBound: number;
  /** First-token latency (moving average) above which an origin is degraded: tried after the rest. */
  slowFirstTokenMs: number;
  now: number;
}

export type Choice =
  | { ok: true; order: OriginConfig[] }
  /** `down`: every origin's circuit is open; `saturated`: the live ones are full. */
  | { ok: false; reason: 'down' | 'saturated'; retryAfterMs?: number };

/** 53-bit string hash (cyrb53): fast, well mixed, the same in workerd and Node. Not for secrets. */
export function hash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The affinity key of a prompt: a hash of its first `chars` characters (about its first blocks). */
export const prefixKey = (prompt: string, chars: number): string =>
  hash53(prompt.slice(0, chars)).toString(36);

/** Weighted rendezvous score: the origin with the highest score owns the key; weights scale its share. */
export function rendezvousScore(origin: OriginConfig, key: string): number {
  const u = (hash53(`${origin.url}\u0000${key}`) + 0.5) / 2 ** 53; // in (0, 1)
  return -origin.weight / Math.log(u);
}

/** Origins in rendezvous order for `key`, best first (ties broken by URL, so the order is total). */
export function rendezvousOrder(origins: readonly OriginConfig[], key: string): OriginConfig[] {
  return origins
    .map((o) => ({ o, score: rendezvousScore(o, key) }))
    .sort((a, b) => b.score - a.score || (a.o.url < b.o.url ? -1 : 1))
    .map((x) => x.o);
}

/**
 * The origins to try, in order. Open circuits are left out; saturated origins (at max concurrency,
 * full queue, or refusing work) too. The rest keep their rendezvous order, except that origins over
 * the load bound max(⌈c·(L+1)/n⌉, minLoadBound) (L: requests in flight on live origins) and degraded
 * ones go last.
 */
export function chooseOrigins(
  origins: readonly OriginConfig[],
  key: string,
  health: (url: string) => OriginSnapshot,
  limits: PolicyLimits,
): Choice {
  const ranked = rendezvousOrder(origins, key).map((o) => ({ o, h: health(o.url) }));
  const live = ranked.filter((x) => x.h.available);
  if (live.length === 0) return { ok: false, reason: 'down' };
  const open = live.filter(
    (x) =>
      x.h.inflight < limits.maxConcurrency &&
      x.h.queue < limits.maxQueue &&
      x.h.overloadedUntil <= limits.now,
  );
  if (open.length === 0) {
    const waits = live.map((x) => x.h.overloadedUntil - limits.now).filter((ms) => ms > 0);
    return {
      ok: false,
      reason: 'saturated',
      retryAfterMs: waits.length ? Math.min(...waits) : undefined,
    };
  }
  const load = live.reduce((sum, x) => sum + x.h.inflight, 0);
  const bound = Math.max(
    limits.minLoadBound,
    Math.ceil((limits.loadFactor * (load + 1)) / live.length),
  );
  const tier = (x: (typeof open)[number]) =>
    x.h.firstTokenMs !== null && x.h.firstTokenMs > limits.slowFirstTokenMs
      ? 2
      : x.h.inflight >= bound
        ? 1
        : 0;
  // A stable sort by tier keeps the rendezvous order within each tier.
  const order = open
    .map((x) => ({ x, t: tier(x) }))
    .sort((a, b) => a.t - b.t)
    .map(({ x }) => x.o);
  return { ok: true, order };
}
