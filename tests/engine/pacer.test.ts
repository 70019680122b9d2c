// The decode loops' event-loop pacing (engine/pacer.ts): turns every few steps when steps are cheap,
// every step when they are not, and never more than 16 steps apart, even with a clock that stands still.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { YieldPacer } from '../../engine/pacer';

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

/** Runs `steps` steps of `stepMs` each; returns the steps between consecutive turns. */
async function run(pacer: YieldPacer, steps: number, stepMs: number): Promise<number[]> {
  const gaps: number[] = [];
  let since = 0;
  for (let i = 0; i < steps; i++) {
    busy(stepMs);
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

  it('cheap steps: turns spread out to 16 steps apart (Node turns cost µs, far under the 8 ms cycle)', async () => {
    const pacer = new YieldPacer(8);
    const gaps = await run(pacer, 200, 0.05);
    expect(gaps[0]).toBe(1); // starts at every step
    expect(pacer.stepsPerTurn).toBe(16);
    expect(Math.max(...gaps)).toBe(16);
  });

  it('steps longer than the target cycle: a turn after every step', async () => {
    const pacer = new YieldPacer(8);
    const gaps = await run(pacer, 12, 10);
    expect(gaps.every((g) => g === 1)).toBe(true);
    expect(pacer.stepsPerTurn).toBe(1);
  });

  it('a cycle that grows past the target halves the steps per turn', async () => {
    const pacer = new YieldPacer(8);
    await run(pacer, 100, 0.05);
    expect(pacer.stepsPerTurn).toBe(16);
    await run(pacer, 40, 2); // 16 × 2 ms = 32 ms cycles
    expect(pacer.stepsPerTurn).toBeLessThanOrEqual(4);
  });

  it('a clock that stands still while code runs (deployed Workers) still gets a turn every 16 steps', async () => {
    vi.spyOn(performance, 'now').mockReturnValue(1000);
    const pacer = new YieldPacer(8);
    let since = 0,
      worst = 0,
      turns = 0;
    for (let i = 0; i < 500; i++) {
      since++;
      if (pacer.due()) {
        await pacer.turn();
        worst = Math.max(worst, since);
        since = 0;
        turns++;
      }
    }
    expect(worst).toBe(16);
    expect(turns).toBeGreaterThanOrEqual(500 / 16);
  });
});
