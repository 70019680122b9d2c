// Bounded admission of one model's requests: a request is admitted while the sessions in use, the
// requests waiting for one and those admitted but not started yet stay under capacity + maxQueue;
// beyond that the routes answer 503 with retry-after (routes/generation.ts). Admitted requests are
// counted until their generation starts, so a burst admitted in one moment cannot overshoot the
// bound, each for at most HOLD_MS, so one that never starts cannot hold its place forever.

/** How long an admitted request holds its place before its generation starts (routes start at once). */
const HOLD_MS = 10_000;

export interface PoolLoad {
  readonly inUse: number;
  readonly waiting: number;
  readonly capacity: number;
}

export interface Refusal {
  reason: string;
  retryAfterMs: number;
}

export class Admission {
  /** Expiry times (Date.now() ms) of admissions whose generation has not started, oldest first. */
  private readonly admitted: number[] = [];

  constructor(
    private readonly id: string,
    private readonly pool: PoolLoad,
    private readonly maxQueue: number,
  ) {}

  /** Null: admitted (its place is held until started()); else why not and when to retry. */
  admit(): Refusal | null {
    const now = Date.now();
    while (this.admitted.length > 0 && this.admitted[0] < now) this.admitted.shift();
    const { inUse, waiting, capacity } = this.pool;
    if (inUse + waiting + this.admitted.length < capacity + this.maxQueue) {
      this.admitted.push(now + HOLD_MS);
      return null;
    }
    const queued = waiting + this.admitted.length;
    return {
      reason: `model ${this.id} is serving ${inUse} requests with ${queued} waiting`,
      retryAfterMs: 1000,
    };
  }

  /** An admitted request that will not generate (refused by billing, a replay): its place is freed. */
  withdrawn(): void {
    this.admitted.pop();
  }

  /** A generation starts: an admitted request's place passes to its place in the pool. */
  started(): void {
    this.admitted.shift();
  }
}
