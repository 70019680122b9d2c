// A bounded pool of sessions (KV cache + activations). Backend memory is an arena that is never
// freed, so sessions are reused: a new one is allocated only when all are busy and the cap allows;
// beyond the cap, callers wait in order.
//
// Waiters poll on their own timer instead of being woken by the releasing caller: in workerd a
// request whose only pending work is a promise another request will resolve is cancelled as
// hung ("Cannot perform I/O on behalf of a different request"), so no waiter may depend on
// another request's continuation.

const POLL_MS = 2;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class SessionPool<T> {
  private readonly idle: T[] = [];
  /** Tickets of callers waiting for a session, first come first served. */
  private readonly queue: object[] = [];
  private created = 0;

  constructor(
    private readonly create: () => T,
    readonly capacity: number,
  ) {
    if (!(capacity >= 1))
      throw new RangeError(`session pool capacity must be at least 1, got ${capacity}`);
  }

  /** Sessions allocated so far (they are never freed). */
  get size(): number {
    return this.created;
  }

  /** Callers waiting for a session. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Sessions held by callers now. */
  get inUse(): number {
    return this.created - this.idle.length;
  }

  /** A free session, or null when the signal aborts first. Release it in `finally`. */
  async acquire(signal?: AbortSignal): Promise<T | null> {
    if (signal?.aborted) return null;
    if (this.queue.length === 0) {
      const ready = this.takeNow();
      if (ready !== undefined) return ready;
    }
    const ticket = {};
    this.queue.push(ticket);
    try {
      for (;;) {
        await sleep(POLL_MS);
        if (signal?.aborted) return null;
        if (this.queue[0] !== ticket) continue;
        const ready = this.takeNow();
        if (ready !== undefined) return ready;
      }
    } finally {
      this.queue.splice(this.queue.indexOf(ticket), 1);
    }
  }

  release(session: T): void {
    this.idle.push(session);
  }

  private takeNow(): T | undefined {
    const free = this.idle.pop();
    if (free !== undefined) return free;
    if (this.created >= this.capacity) return undefined;
    this.created++;
    return this.create();
  }
}
