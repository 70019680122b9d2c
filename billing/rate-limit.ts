// Per-key rate limits as two token buckets (requests/min, tokens/min) plus a count of requests
// in flight. A bucket holds up to one minute's allowance and refills continuously, so "remaining"
// and "reset" mean what OpenAI's x-ratelimit-* headers mean. Pure logic: the clock is passed in;
// the Durable Object (`rate-limiter-object.ts`) owns one instance per key, which makes it exact
// across isolates.
import type { KeyLimits } from './limits';

/** A lease whose release never came (its isolate died) stops counting after this long. */
export const LEASE_TTL_MS = 15 * 60_000;
const MINUTE_MS = 60_000;

export interface LimitSnapshot {
  limitRequests: number;
  remainingRequests: number;
  /** Milliseconds until the request bucket is full again. */
  resetRequestsMs: number;
  limitTokens: number;
  remainingTokens: number;
  resetTokensMs: number;
}

export type LimitRefusal = 'requests' | 'tokens' | 'concurrency' | 'too_large';

export type AcquireResult =
  | { ok: true; leaseId: string; snapshot: LimitSnapshot }
  | { ok: false; reason: LimitRefusal; retryAfterMs: number; snapshot: LimitSnapshot };

interface BucketState {
  capacity: number;
  level: number;
  at: number;
}

class Bucket {
  constructor(
    private capacity: number,
    private level: number,
    private at: number,
  ) {}

  static full(capacity: number, now: number): Bucket {
    return new Bucket(capacity, capacity, now);
  }

  static from(s: BucketState): Bucket {
    return new Bucket(s.capacity, s.level, s.at);
  }

  toJSON(): BucketState {
    return { capacity: this.capacity, level: this.level, at: this.at };
  }

  /** Brings the level up to `now` (and to a new capacity when the key's limit changed). */
  refill(capacity: number, now: number): void {
    if (capacity !== this.capacity) {
      this.level = Math.min(this.level + (capacity - this.capacity), capacity);
      this.capacity = capacity;
    }
    this.level = Math.min(
      this.capacity,
      this.level + ((now - this.at) * this.capacity) / MINUTE_MS,
    );
    this.at = Math.max(this.at, now);
  }

  /** Milliseconds until `amount` is available. */
  waitFor(amount: number): number {
    return this.level >= amount
      ? 0
      : Math.ceil(((amount - this.level) * MINUTE_MS) / this.capacity);
  }

  take(amount: number): void {
    this.level -= amount;
  }

  give(amount: number): void {
    this.level = Math.min(this.capacity, this.level + amount);
  }

  get remaining(): number {
    return Math.max(0, Math.floor(this.level));
  }

  get resetMs(): number {
    return Math.ceil(((this.capacity - this.level) * MINUTE_MS) / this.capacity);
  }
}

interface Lease {
  tokens: number;
  expiresAt: number;
}

/** What the Durable Object persists between evictions. */
export interface LimiterState {
  requests: BucketState | null;
  tokens: BucketState | null;
  leases: [string, Lease][];
}

export class KeyRateLimiter {
  private requests: Bucket | null;
  private tokens: Bucket | null;
  private readonly leases: Map<string, Lease>;

  constructor(state?: LimiterState) {
    this.requests = state?.requests ? Bucket.from(state.requests) : null;
    this.tokens = state?.tokens ? Bucket.from(state.tokens) : null;
    this.leases = new Map(state?.leases ?? []);
  }

  toJSON(): LimiterState {
    return {
      requests: this.requests?.toJSON() ?? null,
      tokens: this.tokens?.toJSON() ?? null,
      leases: [...this.leases],
    };
  }

  acquire(limits: KeyLimits, tokens: number, now: number): AcquireResult {
    const requests = (this.requests ??= Bucket.full(limits.rpm, now));
    const tokenBucket = (this.tokens ??= Bucket.full(limits.tpm, now));
    requests.refill(limits.rpm, now);
    tokenBucket.refill(limits.tpm, now);
    for (const [id, lease] of this.leases) if (lease.expiresAt <= now) this.leases.delete(id);

    const refuse = (reason: LimitRefusal, retryAfterMs: number): AcquireResult => ({
      ok: false,
      reason,
      retryAfterMs,
      snapshot: this.snapshot(limits),
    });
    if (tokens > limits.tpm) return refuse('too_large', 0);
    const wait = Math.max(requests.waitFor(1), tokenBucket.waitFor(tokens));
    if (wait > 0)
      return refuse(
        requests.waitFor(1) >= tokenBucket.waitFor(tokens) ? 'requests' : 'tokens',
        wait,
      );
    if (this.leases.size >= limits.maxConcurrency) return refuse('concurrency', 1000);

    requests.take(1);
    tokenBucket.take(tokens);
    const leaseId = crypto.randomUUID();
    this.leases.set(leaseId, { tokens, expiresAt: now + LEASE_TTL_MS });
    return { ok: true, leaseId, snapshot: this.snapshot(limits) };
  }

  /** Ends a lease; tokens reserved but not used go back to the bucket. */
  release(leaseId: string, usedTokens: number): void {
    const lease = this.leases.get(leaseId);
    if (!lease) return;
    this.leases.delete(leaseId);
    const unused = lease.tokens - usedTokens;
    if (unused > 0) this.tokens?.give(unused);
    else this.tokens?.take(-unused);
  }

  get inFlight(): number {
    return this.leases.size;
  }

  private snapshot(limits: KeyLimits): LimitSnapshot {
    const r = this.requests!;
    const t = this.tokens!;
    return {
      limitRequests: limits.rpm,
      remainingRequests: r.remaining,
      resetRequestsMs: r.resetMs,
      limitTokens: limits.tpm,
      remainingTokens: t.remaining,
      resetTokensMs: t.resetMs,
    };
  }
}
