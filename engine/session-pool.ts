// A bounded pool of sessions (KV cache + activations). Backend memory is an arena that is never
// freed, so sessions are reused: a new one is allocated only when all are busy and the cap allows;
// beyond the cap, callers wait in order.

export class SessionPool<T> {
  private readonly idle: T[] = [];
  private readonly waiters: ((session: T) => void)[] = [];
  private created = 0;

  constructor(
    private readonly create: () => T,
    readonly capacity: number,
  ) {
    if (!(capacity >= 1)) throw new RangeError(`session pool capacity must be at least 1, got ${capacity}`);
  }

  /** Sessions allocated so far (they are never freed). */
  get size(): number {
    return this.created;
  }

  /** A free session, or null when the signal aborts first. Release it in `finally`. */
  acquire(signal?: AbortSignal): Promise<T | null> {
    if (signal?.aborted) return Promise.resolve(null);
    const free = this.idle.pop();
    if (free !== undefined) return Promise.resolve(free);
    if (this.created < this.capacity) {
      const session = this.create();
      this.created++;
      return Promise.resolve(session);
    }
    return new Promise((resolve) => {
      const onAbort = () => {
        this.waiters.splice(this.waiters.indexOf(grant), 1);
        resolve(null);
      };
      const grant = (session: T) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(session);
      };
      this.waiters.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(session: T): void {
    const next = this.waiters.shift();
    if (next) next(session);
    else this.idle.push(session);
  }
}
