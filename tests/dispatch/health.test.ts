import { describe, expect, it } from 'vitest';
import { defaultHealthOptions, HealthBoard } from '../../dispatch/health';

const A = 'http://a.test';
function board(random = () => 0.5) {
  const clock = { t: 0 };
  const b = new HealthBoard(
    {
      ...defaultHealthOptions,
      openMs: 1_000,
      maxOpenMs: 8_000,
      probeIntervalMs: 10_000,
      probeJitter: 0.2,
    },
    () => clock.t,
    random,
  );
  return { b, clock };
}

describe('circuit breaker', () => {
  it('a refused connection opens the circuit at once; server errors after the threshold', () => {
    const { b } = board();
    b.onFailure(A, 'connect');
    expect(b.snapshot(A)).toMatchObject({ circuit: 'open', available: false });
    const { b: b2 } = board();
    b2.onFailure(A, 'server');
    b2.onFailure(A, 'timeout');
    expect(b2.snapshot(A).circuit).toBe('closed');
    b2.onFailure(A, 'server');
    expect(b2.snapshot(A).circuit).toBe('open');
  });

  it('a success resets the failure count', () => {
    const { b } = board();
    b.onFailure(A, 'server');
    b.onFailure(A, 'server');
    b.onSuccess(A, 100);
    b.onFailure(A, 'server');
    expect(b.snapshot(A).circuit).toBe('closed');
  });

  it('half-open after the open period lets one trial through; its success closes, its failure reopens for twice as long', () => {
    const { b, clock } = board();
    b.onFailure(A, 'connect');
    clock.t = 999;
    expect(b.snapshot(A).available).toBe(false);
    clock.t = 1_000;
    expect(b.snapshot(A)).toMatchObject({ circuit: 'half_open', available: true });
    const release = b.acquire(A);
    expect(b.snapshot(A).available).toBe(false); // one trial at a time
    b.onFailure(A, 'server');
    release();
    expect(b.snapshot(A).circuit).toBe('open');
    clock.t = 1_000 + 1_999;
    expect(b.snapshot(A).available).toBe(false);
    clock.t = 1_000 + 2_000;
    const trial = b.acquire(A);
    b.onSuccess(A, 50);
    trial();
    expect(b.snapshot(A)).toMatchObject({ circuit: 'closed', available: true, inflight: 0 });
  });

  it('the open period doubles up to its cap', () => {
    const { b, clock } = board();
    const periods: number[] = [];
    for (let i = 0; i < 6; i++) {
      const start = clock.t;
      b.onFailure(A, 'connect');
      while (!b.snapshot(A).available) clock.t += 100;
      periods.push(clock.t - start);
    }
    expect(periods).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  it('tracks requests in flight; release is idempotent', () => {
    const { b } = board();
    const r1 = b.acquire(A);
    b.acquire(A);
    expect(b.snapshot(A).inflight).toBe(2);
    r1();
    r1();
    expect(b.snapshot(A).inflight).toBe(1);
  });

  it('first-token latency is a moving average', () => {
    const { b } = board();
    b.onSuccess(A, 100);
    b.onSuccess(A, 200);
    expect(b.snapshot(A).firstTokenMs).toBe(130);
  });

  it('an overloaded answer stops new work until its retry-after', () => {
    const { b, clock } = board();
    clock.t = 500;
    b.onOverloaded(A, 2_000);
    expect(b.snapshot(A)).toMatchObject({ circuit: 'closed', overloadedUntil: 2_500 });
  });
});

describe('active probes', () => {
  it('come due at the jittered interval, once per due time', () => {
    const { b, clock } = board(() => 0); // jitter −20%
    expect(b.dueProbes([A])).toEqual([]); // first probe within one interval
    clock.t = 8_000;
    expect(b.dueProbes([A])).toEqual([A]);
    expect(b.dueProbes([A])).toEqual([]);
    clock.t = 15_999;
    expect(b.dueProbes([A])).toEqual([]);
    clock.t = 16_000;
    expect(b.dueProbes([A])).toEqual([A]);
  });

  it('jitter spreads probe times across ±20%', () => {
    const times = [0, 0.25, 0.5, 0.75, 0.999].map((r) => {
      const { b, clock } = board(() => r);
      b.snapshot(A);
      for (clock.t = 0; b.dueProbes([A]).length === 0; clock.t += 100);
      return clock.t;
    });
    expect(times).toEqual([8_000, 9_000, 10_000, 11_000, 12_000]);
  });

  it('an open origin is probed when its open period ends, and a good probe closes it', () => {
    const { b, clock } = board();
    b.snapshot(A);
    b.onFailure(A, 'connect');
    clock.t = 500;
    b.onProbe(A, true, 3); // too early: a flapping origin must sit out its period
    expect(b.snapshot(A)).toMatchObject({ circuit: 'open', queue: 3 });
    clock.t = 1_000;
    expect(b.dueProbes([A])).toEqual([A]);
    b.onProbe(A, true, 0);
    expect(b.snapshot(A)).toMatchObject({ circuit: 'closed', available: true });
  });

  it('a failed probe counts against a closed origin and keeps an open one open', () => {
    const { b } = board();
    for (let i = 0; i < 3; i++) b.onProbe(A, false);
    expect(b.snapshot(A).circuit).toBe('open');
  });
});
