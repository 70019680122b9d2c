import { describe, expect, it } from 'vitest';
import type { OriginSnapshot } from '../../dispatch/health';
import {
  chooseOrigins,
  hash53,
  prefixKey,
  rendezvousOrder,
  type PolicyLimits,
} from '../../dispatch/policy';
import type { OriginConfig } from '../../dispatch/registry';

const origins: OriginConfig[] = ['a', 'b', 'c', 'd'].map((n) => ({
  url: `http://${n}.test`,
  weight: 1,
}));
const idle: OriginSnapshot = {
  circuit: 'closed',
  available: true,
  inflight: 0,
  queue: 0,
  overloadedUntil: 0,
  firstTokenMs: null,
};
const limits: PolicyLimits = {
  maxConcurrency: 8,
  maxQueue: 16,
  loadFactor: 1.25,
  minLoadBound: 1,
  slowFirstTokenMs: 1000,
  now: 1_000,
};
const keys = Array.from({ length: 4000 }, (_, i) =>
  prefixKey(`system prompt #${i}: you are a helpful assistant`, 512),
);
const healthOf = (over: Record<string, Partial<OriginSnapshot>>) => (url: string) => ({
  ...idle,
  ...over[url],
});
const first = (key: string, health = healthOf({}), l = limits) => {
  const c = chooseOrigins(origins, key, health, l);
  if (!c.ok) throw new Error(c.reason);
  return c.order[0].url;
};

describe('hashing', () => {
  it('is deterministic and keyed only by the first characters', () => {
    expect(hash53('hello')).toBe(hash53('hello'));
    expect(hash53('hello')).not.toBe(hash53('hellp'));
    expect(prefixKey('x'.repeat(512) + 'tail one', 512)).toBe(
      prefixKey('x'.repeat(512) + 'tail two', 512),
    );
    expect(prefixKey('x'.repeat(511) + 'y', 512)).not.toBe(prefixKey('x'.repeat(512), 512));
  });

  it('rendezvous order is a total order that depends only on the key and the origin set', () => {
    const o1 = rendezvousOrder(origins, keys[0]).map((o) => o.url);
    const o2 = rendezvousOrder([...origins].reverse(), keys[0]).map((o) => o.url);
    expect(o1).toEqual(o2);
    expect(new Set(o1).size).toBe(4);
  });

  it('spreads keys evenly, in proportion to weights', () => {
    const count = (set: OriginConfig[]) => {
      const n: Record<string, number> = {};
      for (const k of keys)
        n[rendezvousOrder(set, k)[0].url] = (n[rendezvousOrder(set, k)[0].url] ?? 0) + 1;
      return n;
    };
    for (const v of Object.values(count(origins))) {
      expect(v / keys.length).toBeGreaterThan(0.2);
      expect(v / keys.length).toBeLessThan(0.3);
    }
    const weighted = count([
      { url: 'http://big.test', weight: 3 },
      { url: 'http://small.test', weight: 1 },
    ]);
    expect(weighted['http://big.test'] / keys.length).toBeGreaterThan(0.7);
    expect(weighted['http://big.test'] / keys.length).toBeLessThan(0.8);
  });

  it('removing an origin moves only the keys it owned', () => {
    const without = origins.filter((o) => o.url !== 'http://c.test');
    for (const k of keys) {
      const before = rendezvousOrder(origins, k)[0].url;
      const after = rendezvousOrder(without, k)[0].url;
      if (before !== 'http://c.test') expect(after).toBe(before);
      else expect(after).toBe(rendezvousOrder(origins, k)[1].url); // its second choice
    }
  });
});

describe('chooseOrigins', () => {
  it('sends the same prefix to the same origin, and different prefixes across the pool', () => {
    expect(first(keys[7])).toBe(first(keys[7]));
    expect(new Set(keys.slice(0, 64).map((k) => first(k))).size).toBe(4);
  });

  it('skips open circuits; all open is "down"', () => {
    const owner = first(keys[1]);
    const next = chooseOrigins(
      origins,
      keys[1],
      healthOf({ [owner]: { available: false, circuit: 'open' } }),
      limits,
    );
    expect(next.ok && next.order.map((o) => o.url)).toEqual(
      rendezvousOrder(origins, keys[1])
        .slice(1)
        .map((o) => o.url),
    );
    const down = Object.fromEntries(
      origins.map((o) => [o.url, { available: false, circuit: 'open' as const }]),
    );
    expect(chooseOrigins(origins, keys[1], healthOf(down), limits)).toEqual({
      ok: false,
      reason: 'down',
    });
  });

  it('skips saturated origins (concurrency, queue, refusing work); all saturated is "saturated" with the soonest retry', () => {
    const order = rendezvousOrder(origins, keys[2]).map((o) => o.url);
    const busy = {
      [order[0]]: { inflight: 8 },
      [order[1]]: { queue: 16 },
      [order[2]]: { overloadedUntil: 3_000 },
    };
    expect(first(keys[2], healthOf(busy))).toBe(order[3]);
    const all = { ...busy, [order[3]]: { overloadedUntil: 1_500 } };
    expect(chooseOrigins(origins, keys[2], healthOf(all), limits)).toEqual({
      ok: false,
      reason: 'saturated',
      retryAfterMs: 500,
    });
  });

  it('bounded load: a hot prefix spills to its next choice once its owner is over c × the mean', () => {
    const order = rendezvousOrder(origins, keys[3]).map((o) => o.url);
    // 3 in flight on the owner, none elsewhere: bound = ceil(1.25 × 4 / 4) = 2 → the owner yields.
    expect(first(keys[3], healthOf({ [order[0]]: { inflight: 3 } }))).toBe(order[1]);
    // 1 in flight: bound = ceil(1.25 × 2 / 4) = 1 → yields too; with a balanced pool it keeps the key.
    expect(first(keys[3], healthOf({ [order[0]]: { inflight: 1 } }))).toBe(order[1]);
    const balanced = Object.fromEntries(order.map((u) => [u, { inflight: 2 }]));
    expect(first(keys[3], healthOf(balanced))).toBe(order[0]);
    // Under the floor an origin keeps its prefixes: a few concurrent requests batch well.
    expect(
      first(keys[3], healthOf({ [order[0]]: { inflight: 3 } }), { ...limits, minLoadBound: 4 }),
    ).toBe(order[0]);
    expect(
      first(keys[3], healthOf({ [order[0]]: { inflight: 4 } }), { ...limits, minLoadBound: 4 }),
    ).toBe(order[1]);
    // Spilled origins are still tried, after the ones under the bound.
    const c = chooseOrigins(origins, keys[3], healthOf({ [order[0]]: { inflight: 3 } }), limits);
    expect(c.ok && c.order.map((o) => o.url)).toEqual([order[1], order[2], order[3], order[0]]);
  });

  it('a slow origin (first-token latency) is tried last', () => {
    const order = rendezvousOrder(origins, keys[4]).map((o) => o.url);
    const c = chooseOrigins(
      origins,
      keys[4],
      healthOf({ [order[0]]: { firstTokenMs: 5_000 } }),
      limits,
    );
    expect(c.ok && c.order.map((o) => o.url)).toEqual([order[1], order[2], order[3], order[0]]);
  });

  it('is a pure function: the same inputs give the same order', () => {
    const h = healthOf({ 'http://a.test': { inflight: 3 }, 'http://b.test': { available: false } });
    for (const k of keys.slice(0, 50))
      expect(chooseOrigins(origins, k, h, limits)).toEqual(chooseOrigins(origins, k, h, limits));
  });
});
