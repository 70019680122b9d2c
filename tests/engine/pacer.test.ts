// The decode loops' event-loop pacing (engine/pacer.ts): it measures what a turn costs, then spaces
// turns so that they take about their share of the time, within the cycle bound and 64 steps, even
// with a clock that stands still.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { YieldPacer } from '../../engine/pacer';

/** A virtual clock (a loaded machine makes wall-clock steps uneven): steps and turns advance it. */
let clock = 0;
const useClock = () => {
  clock = 0;
  vi.spyOn(performance, 'now').mockImplementation(() => clock);
};
const busy = (ms: number) => {
  clock += ms;
};

/** A turn that costs 1 ms, as a zero timer does in workerd. */
const slowTurn = () =>
  new Promise<void>((resolve) =>
    setImmediate(() => {
      clock += 1;
      resolve();
    }),
  );

/** Runs `steps` steps of `stepMs` each; returns the steps between consecutive turns. */
async function run(
  pacer: YieldPacer,
  steps: number,
  stepMs: number,
  wall = false,
): Promise<number[]> {
  const gaps: number[] = [];
  let since = 0;
  for (let i = 0; i < steps; i++) {
    if (wall) for (const end = performance.now() + stepMs; performance.now() < end;);
    else busy(stepMs);
    since++;
    if (pacer.due()) {
      await pacer.turn();
      gaps.push(since);
      since = 0;
    }
  }
  return gaps;
}

describe('YieldPacer', () => {
  afterEach(() => vi.restoreAllMocks());

  it('measures the turn on the first one, then keeps turns near their share (1 ms turns, 2 ms steps)', async () => {
    useClock();
    const pacer = new YieldPacer({ yieldTo: slowTurn, maxCycleMs: 50 });
    const gaps = await run(pacer, 120, 2);
    expect(gaps[0]).toBe(1); // starts at every step
    expect(pacer.turnCostMs).toBe(1);
    expect(pacer.stepsPerTurn).toBe(16); // 1 ms / (1/32 · 2 ms)
    expect(gaps.slice(2).every((g) => g === 16)).toBe(true);
  });

  it('the cycle bound wins over the share: long steps with costly turns still turn every maxCycleMs', async () => {
    useClock();
    const pacer = new YieldPacer({ yieldTo: slowTurn, maxCycleMs: 20 });
    const gaps = await run(pacer, 30, 10); // the share alone would ask for 4 steps (40 ms)
    expect(gaps.slice(1).every((g) => g === 2)).toBe(true);
    expect(pacer.stepsPerTurn).toBe(2);
  });

  it('cheap turns (Node, real clock) after long steps: a turn after every step', async () => {
    const pacer = new YieldPacer();
    const gaps = await run(pacer, 12, 10, true);
    expect(pacer.turnCostMs).toBeLessThan(0.3);
    expect(gaps.every((g) => g === 1)).toBe(true);
    expect(pacer.stepsPerTurn).toBe(1);
  });

  it('steps that grow longer lower the steps per turn', async () => {
    useClock();
    const pacer = new YieldPacer({ yieldTo: slowTurn, maxCycleMs: 50 });
    await run(pacer, 200, 0.2);
    expect(pacer.stepsPerTurn).toBe(64); // 1 ms / (1/32 · 0.2 ms) = 160, bounded at 64 steps
    await run(pacer, 100, 5); // at 64 steps, 320 ms cycles
    expect(pacer.stepsPerTurn).toBe(7); // ⌈1 ms / (1/32 · 5 ms)⌉, under the 10 steps of 50 ms
  });

  it('a clock that stands still while code runs (deployed Workers) still gets a turn every 64 steps', async () => {
    vi.spyOn(performance, 'now').mockReturnValue(1000);
    const pacer = new YieldPacer();
    let since = 0,
      worst = 0,
      turns = 0;
    for (let i = 0; i < 1000; i++) {
      since++;
      if (pacer.due()) {
        await pacer.turn();
        worst = Math.max(worst, since);
        since = 0;
        turns++;
      }
    }
    expect(worst).toBe(64);
    expect(turns).toBeGreaterThanOrEqual(1000 / 64);
  });
});
