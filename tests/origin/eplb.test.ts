// EPLB (origin/ep/eplb.ts), the algorithm alone, on random loads (fast-check): every expert placed at
// least once and every slot filled; the redundant slots go to the heaviest experts (replicas follow load
// per replica); balanced packing fills each pack to exactly n/m items and its spread is bounded by the
// heaviest item (the greedy's guarantee: max − min pack weight ≤ max item weight). The rebalancer places
// from the load of its last period, not the lifetime's.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  balancedPacking,
  placeExperts,
  rankImbalance,
  replicateExperts,
} from '../../origin/ep/eplb';
import { ExpertStats } from '../../origin/ep/expert-stats';
import { loadPeriods } from '../../origin/ep/rebalancer';

const loads = fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 2, maxLength: 64 });

describe('EPLB', () => {
  it('places every expert at least once and fills every slot', () => {
    fc.assert(
      fc.property(
        loads,
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 3 }),
        (load, ranks, red) => {
          const p = placeExperts(load, ranks, red);
          expect(p.slots).toHaveLength(ranks);
          for (const s of p.slots) expect(s).toHaveLength(Math.ceil(load.length / ranks) + red);
          load.forEach((_, e) => expect(p.replicas[e].length).toBeGreaterThanOrEqual(1));
          const total = p.replicas.reduce((a, r) => a + r.length, 0);
          expect(total).toBe(ranks * p.slotsPerRank);
          const sum = load.reduce((a, b) => a + b, 0);
          expect(p.rankLoad.reduce((a, b) => a + b, 0)).toBeCloseTo(sum, 6);
        },
      ),
    );
  });

  it('replicates the heaviest experts: no expert with fewer replicas carries more load per replica than a replicated one could shed', () => {
    fc.assert(
      fc.property(loads, fc.integer({ min: 0, max: 16 }), (load, extra) => {
        const count = replicateExperts(load, load.length + extra);
        expect(count.reduce((a, b) => a + b, 0)).toBe(load.length + extra);
        // Greedy min-max: taking a replica from any expert with ≥ 2 would leave it at least as loaded
        // per replica as the current maximum.
        const max = Math.max(...load.map((l, e) => l / count[e]));
        count.forEach((c, e) => {
          if (c > 1) expect(load[e] / (c - 1)).toBeGreaterThanOrEqual(max - 1e-9);
        });
      }),
    );
    // Concretely: one hot expert takes all the redundant slots until its share falls below the next.
    expect(replicateExperts([100, 10, 10, 10], 7)).toEqual([4, 1, 1, 1]);
    expect(replicateExperts([100, 60, 10, 10], 6)).toEqual([2, 2, 1, 1]);
  });

  it('balanced packing: exactly n/m items per pack, spread ≤ the heaviest item', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer(),
        (m, per, seed) => {
          const w = Array.from(
            { length: m * per },
            (_, i) => Math.abs(Math.sin(seed + i * 7.1)) * 100,
          );
          const bin = balancedPacking(w, m);
          const items = new Array<number>(m).fill(0),
            weight = new Array<number>(m).fill(0);
          bin.forEach((b, i) => {
            items[b]++;
            weight[b] += w[i];
          });
          expect(items.every((c) => c === per)).toBe(true);
          expect(Math.max(...weight) - Math.min(...weight)).toBeLessThanOrEqual(
            Math.max(...w) + 1e-9,
          );
        },
      ),
    );
    expect(() => balancedPacking([1, 2, 3], 2)).toThrow(/evenly/);
  });

  it('one redundant slot per rank brings a skewed 64-expert layer on 4 ranks to ≤ 1.1 max/mean', () => {
    // Zipf-like load: the shape a router with preferences gives.
    const load = Array.from({ length: 64 }, (_, e) => Math.round(1000 / (1 + e) ** 0.8));
    const none = placeExperts(load, 4, 0),
      one = placeExperts(load, 4, 1);
    expect(rankImbalance(one.rankLoad)).toBeLessThanOrEqual(1.1);
    expect(rankImbalance(one.rankLoad)).toBeLessThanOrEqual(rankImbalance(none.rankLoad));
    // The four redundant slots went to the heaviest experts.
    expect(one.replicas[0].length).toBeGreaterThan(1);
  });

  it("the rebalancer's input is the load since its previous placement, whatever the admin window does", () => {
    const stats = new ExpertStats([1, 2], 4);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    // offsets of one step's expert-sorted rows: expert e got offsets[e + 1] - offsets[e]
    const step = (i: number, counts: number[]) =>
      stats.record(i, Int32Array.from([0, ...counts.map((_, e) => sum(counts.slice(0, e + 1)))]));
    step(0, [5, 0, 0, 1]);
    const next = loadPeriods(stats); // starts here: what came before is not its first period
    step(0, [9, 1, 0, 0]);
    step(1, [0, 2, 2, 0]);
    expect(next()).toEqual([
      [9, 1, 0, 0],
      [0, 2, 2, 0],
    ]);
    stats.reset(); // POST /admin/experts/reset: the admin window only
    step(0, [0, 0, 3, 3]);
    step(0, [1, 0, 0, 0]);
    expect(next()).toEqual([
      [1, 0, 3, 3],
      [0, 0, 0, 0],
    ]);
    expect(next()).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    expect(stats.snapshot()[0].counts).toEqual([1, 0, 3, 3]);
  });
});
