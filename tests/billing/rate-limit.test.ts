// Token buckets per key: requests/min, tokens/min, concurrency, with OpenAI-style remaining/reset.
import { describe, expect, it } from 'vitest';
import { KeyRateLimiter, LEASE_TTL_MS } from '../../billing/rate-limit';

const limits = { rpm: 3, tpm: 1000, maxConcurrency: 2 };

describe('KeyRateLimiter', () => {
  it('allows rpm requests a minute, then says how long to wait', () => {
    const l = new KeyRateLimiter();
    for (let i = 0; i < 3; i++) {
      const r = l.acquire(limits, 10, 0);
      expect(r.ok).toBe(true);
      if (r.ok) l.release(r.leaseId, 10);
    }
    const refused = l.acquire(limits, 10, 0);
    expect(refused).toMatchObject({ ok: false, reason: 'requests', retryAfterMs: 20_000 });
    expect(refused.snapshot).toMatchObject({
      limitRequests: 3,
      remainingRequests: 0,
      resetRequestsMs: 60_000,
    });
    expect(l.acquire(limits, 10, 20_000).ok).toBe(true);
  });

  it('counts tokens and gives unused ones back on release', () => {
    const l = new KeyRateLimiter();
    const a = l.acquire(limits, 900, 0);
    expect(a.ok && a.snapshot.remainingTokens).toBe(100);
    expect(l.acquire(limits, 200, 0)).toMatchObject({
      ok: false,
      reason: 'tokens',
      retryAfterMs: 6_000,
    });
    if (a.ok) l.release(a.leaseId, 300);
    const b = l.acquire(limits, 200, 0);
    expect(b.ok && b.snapshot.remainingTokens).toBe(500);
  });

  it('refuses a request larger than a minute of tokens outright', () => {
    expect(new KeyRateLimiter().acquire(limits, 1001, 0)).toMatchObject({
      ok: false,
      reason: 'too_large',
    });
  });

  it('limits requests in flight, and forgets leases whose release never came', () => {
    const l = new KeyRateLimiter();
    const a = l.acquire(limits, 1, 0);
    l.acquire(limits, 1, 0);
    expect(l.acquire(limits, 1, 1)).toMatchObject({ ok: false, reason: 'concurrency' });
    if (a.ok) l.release(a.leaseId, 1);
    expect(l.acquire(limits, 1, 30_000).ok).toBe(true);
    expect(l.acquire(limits, 1, 40_000).ok).toBe(false);
    expect(l.acquire(limits, 1, LEASE_TTL_MS + 1).ok).toBe(true);
  });

  it('survives a round trip through its saved state', () => {
    const l = new KeyRateLimiter();
    const a = l.acquire(limits, 600, 0);
    const restored = new KeyRateLimiter(JSON.parse(JSON.stringify(l.toJSON())));
    expect(restored.inFlight).toBe(1);
    expect(restored.acquire(limits, 500, 0)).toMatchObject({ ok: false, reason: 'tokens' });
    if (a.ok) restored.release(a.leaseId, 0);
    expect(restored.acquire(limits, 500, 0).ok).toBe(true);
  });

  it('follows a key whose limits changed', () => {
    const l = new KeyRateLimiter();
    l.acquire(limits, 1, 0);
    const bigger = l.acquire({ ...limits, rpm: 10 }, 1, 0);
    expect(bigger.ok && bigger.snapshot).toMatchObject({ limitRequests: 10, remainingRequests: 8 });
  });
});
