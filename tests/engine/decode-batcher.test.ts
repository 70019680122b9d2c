// The decode batcher's driven sequences (engine/decode-batcher.ts Driver): a step samples every sequence in
// it at once, in whichever request ran it, so steps of several sequences go on without a turn each; turns
// come every few steps, as the pacer spaces them for one sequence. Each sequence gets its own tokens in
// order, one per step that ran it, and runs at most DRIVE_AHEAD ahead of the request taking them.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DecodeBatcher, DRIVE_AHEAD, type Driver } from '../../engine/decode-batcher';

/** A virtual clock: steps and turns advance it (a loaded machine makes wall-clock steps uneven). */
let clock = 0;
let turns = 0;
/** A turn that costs 1 ms, as a zero timer does in workerd. */
const slowTurn = () =>
  new Promise<void>((resolve) =>
    setImmediate(() => {
      clock += 1;
      turns++;
      resolve();
    }),
  );

interface Seq {
  id: number;
  pos: number;
}

/** A sequence of `tokens` positions: its request takes what the steps made, one token at a time. */
function sequence(id: number, tokens: number) {
  const made: number[] = [];
  const taken: number[] = [];
  let maxBacklog = 0;
  const driver: Driver<Seq> = {
    seq: { id, pos: 0 },
    backlog: () => made.length,
    advance: () => {
      made.push(driver.seq.pos);
      maxBacklog = Math.max(maxBacklog, made.length);
      if (driver.seq.pos + 1 >= tokens) return false;
      driver.seq = { id, pos: driver.seq.pos + 1 };
      return true;
    },
  };
  return { driver, made, taken, maxBacklog: () => maxBacklog };
}

/** A request: drives its sequence and takes its tokens. */
async function request(b: DecodeBatcher<Seq>, s: ReturnType<typeof sequence>, tokens: number) {
  try {
    while (s.taken.length < tokens) {
      await b.drive(s.driver);
      while (s.made.length) s.taken.push(s.made.shift()!);
    }
  } finally {
    b.stop(s.driver);
  }
}

afterEach(() => vi.restoreAllMocks());

describe('DecodeBatcher driven sequences', () => {
  it('steps several sequences without a turn a step, each getting its own positions in order', async () => {
    clock = 0;
    turns = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => clock);
    const steps: number[][] = [];
    const b = new DecodeBatcher<Seq>(
      (seqs) => {
        clock += 2; // a 2 ms step
        steps.push(seqs.map((s) => s.id));
      },
      { maxBatch: 4, pacer: { yieldTo: slowTurn } },
    );
    const seqs = [sequence(0, 200), sequence(1, 200), sequence(2, 120)];
    await Promise.all(seqs.map((s, i) => request(b, s, [200, 200, 120][i])));
    for (const [i, s] of seqs.entries())
      expect(s.taken).toEqual(Array.from({ length: [200, 200, 120][i] }, (_, p) => p));
    // every step ran each sequence at most once; most ran several (a request that has not taken its
    // tokens for DRIVE_AHEAD steps is left out until it does)
    for (const st of steps) expect(new Set(st).size).toBe(st.length);
    expect(steps.filter((st) => st.length === 3).length).toBeGreaterThanOrEqual(DRIVE_AHEAD);
    expect(steps.filter((st) => st.length >= 2).length).toBeGreaterThan(steps.length / 2);
    // turns: ~1/32 of the time at 1 ms a turn and 2 ms a step, not one a step
    expect(turns).toBeLessThan(steps.length / 4);
    expect(turns).toBeGreaterThan(0);
  });

  it('runs a sequence at most DRIVE_AHEAD tokens ahead of its request, and the others on without it', async () => {
    clock = 0;
    turns = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => clock);
    const b = new DecodeBatcher<Seq>(() => void (clock += 2), {
      maxBatch: 4,
      pacer: { yieldTo: slowTurn },
    });
    const slow = sequence(0, 300),
      fast = sequence(1, 300);
    // the slow request takes nothing until the fast one is done
    const fastDone = request(b, fast, 300);
    await b.drive(slow.driver);
    await fastDone;
    expect(fast.taken).toHaveLength(300);
    expect(slow.made.length).toBeLessThanOrEqual(DRIVE_AHEAD);
    expect(slow.maxBacklog()).toBeLessThanOrEqual(DRIVE_AHEAD);
    await request(b, slow, 300 - slow.taken.length);
    expect(slow.taken).toEqual(Array.from({ length: 300 }, (_, p) => p));
  });

  it('gives a step error to every sequence in it', async () => {
    const b = new DecodeBatcher<Seq>(
      () => {
        throw new Error('forward failed');
      },
      { maxBatch: 4 },
    );
    const a = sequence(0, 10),
      c = sequence(1, 10);
    const results = await Promise.allSettled([request(b, a, 10), request(b, c, 10)]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect(String((r as PromiseRejectedResult).reason)).toMatch(/forward failed/);
    }
  });
});
