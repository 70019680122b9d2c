// The backoff policy as numbers: exponential with a cap, jitter of at most 25 %, and the server's
// retry-after-ms / retry-after (seconds or HTTP date) honoured when sane.
import { describe, expect, it } from 'vitest';
import { backoffDelayMs, retryDelayMs, serverRequestedDelayMs, shouldRetry } from '../../sdk/index';

describe('backoff', () => {
  it('doubles from 0.5 s and caps at 8 s', () => {
    const noJitter = () => 0;
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelayMs(n, noJitter))).toEqual([
      500, 1000, 2000, 4000, 8000, 8000, 8000,
    ]);
  });
  it('jitter shortens each wait by at most a quarter', () => {
    expect(backoffDelayMs(1, () => 1)).toBe(375);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelayMs(2);
      expect(d).toBeGreaterThanOrEqual(750);
      expect(d).toBeLessThanOrEqual(1000);
    }
  });
});

describe('server-requested delay', () => {
  const h = (o: Record<string, string>) => new Headers(o);
  it('prefers retry-after-ms, then retry-after seconds, then an HTTP date', () => {
    expect(serverRequestedDelayMs(h({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    expect(serverRequestedDelayMs(h({ 'retry-after': '2' }))).toBe(2000);
    expect(serverRequestedDelayMs(h({ 'retry-after': '0.5' }))).toBe(500);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(serverRequestedDelayMs(h({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }), now)).toBe(
      3000,
    );
  });
  it('ignores waits that are negative, past a minute, or unreadable', () => {
    expect(serverRequestedDelayMs(h({ 'retry-after': '120' }))).toBeUndefined();
    expect(serverRequestedDelayMs(h({ 'retry-after-ms': '-5' }))).toBeUndefined();
    expect(serverRequestedDelayMs(h({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(serverRequestedDelayMs(h({}))).toBeUndefined();
    expect(retryDelayMs(1, h({ 'retry-after': '120' }), () => 0)).toBe(500);
  });
  it('retries 408, 409, 429 and 5xx, and obeys x-should-retry', () => {
    const r = (status: number, headers: Record<string, string> = {}) =>
      shouldRetry(new Response(null, { status, headers }));
    expect([408, 409, 429, 500, 502, 503].map((s) => r(s))).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
    expect([400, 401, 402, 403, 404, 422].map((s) => r(s))).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(r(503, { 'x-should-retry': 'false' })).toBe(false);
    expect(r(400, { 'x-should-retry': 'true' })).toBe(true);
  });
});
