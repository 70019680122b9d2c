// The Durable Object that enforces one key's limits: every isolate's requests for a key meet in
// this one object, so its counts are exact. Its state is saved (synchronous SQLite-backed KV) after
// every change, so an eviction mid-request forgets neither the buckets nor the leases in flight.
import { DurableObject } from 'cloudflare:workers';
import type { KeyLimits } from './limits';
import { KeyRateLimiter, type AcquireResult, type LimiterState } from './rate-limit';

const STATE_KEY = 'limiter';

export class RateLimiter extends DurableObject {
  private limiter: KeyRateLimiter | null = null;

  private load(): KeyRateLimiter {
    return (this.limiter ??= new KeyRateLimiter(this.ctx.storage.kv.get<LimiterState>(STATE_KEY)));
  }

  private save(): void {
    this.ctx.storage.kv.put(STATE_KEY, this.load().toJSON());
  }

  acquire(limits: KeyLimits, tokens: number): AcquireResult {
    const result = this.load().acquire(limits, tokens, Date.now());
    this.save();
    return result;
  }

  release(leaseId: string, usedTokens: number): void {
    this.load().release(leaseId, usedTokens);
    this.save();
  }

  inFlight(): number {
    return this.load().inFlight;
  }
}
