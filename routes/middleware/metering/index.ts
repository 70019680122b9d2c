// Gives a generation route its `Meter` (limits, reservation, ledger) and, on the way out, the
// x-ratelimit-* headers. A handler that throws after admission has its reservation settled here
// as failed, so no error path can leave money held.
import type { MiddlewareHandler } from 'hono';
import { Meter } from '../../../billing/meter';
import type { LimitSnapshot } from '../../../billing/rate-limit';
import { prices } from '../../../billing/prices';
import { NOT_RETRYABLE } from '../../../billing/refusals';
import { invalidRequest } from '../../../protocol/errors';
import { waitUntilOf } from '../../context';
import type { AppEnv } from '../../env';

const MAX_IDEMPOTENCY_KEY = 255;

/** OpenAI writes durations like "1s", "6m0s", "20ms". */
export function formatReset(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const s = ms / 1000;
  if (s < 60) return `${Number(s.toFixed(3))}s`;
  return `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
}

export function rateLimitHeaders(s: LimitSnapshot): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': String(s.limitRequests),
    'x-ratelimit-remaining-requests': String(s.remainingRequests),
    'x-ratelimit-reset-requests': formatReset(s.resetRequestsMs),
    'x-ratelimit-limit-tokens': String(s.limitTokens),
    'x-ratelimit-remaining-tokens': String(s.remainingTokens),
    'x-ratelimit-reset-tokens': formatReset(s.resetTokensMs),
  };
}

export function metering(): MiddlewareHandler<AppEnv> {
  return async function metering(c, next) {
    const idempotencyKey = c.req.header('idempotency-key') || null;
    if (idempotencyKey && idempotencyKey.length > MAX_IDEMPOTENCY_KEY) {
      throw invalidRequest(
        `An Idempotency-Key header must be at most ${MAX_IDEMPOTENCY_KEY} characters.`,
        'idempotency-key',
      );
    }
    const meter = new Meter({
      db: c.env.DB,
      limiter: c.env.RATE_LIMITER,
      prices,
      key: c.get('key'),
      requestId: c.get('requestId'),
      idempotencyKey,
      waitUntil: waitUntilOf(c),
    });
    c.set('meter', meter);
    await next();
    if (c.error)
      await meter.finish({
        status: 'failed',
        promptTokens: 0,
        cachedTokens: 0,
        completionTokens: 0,
      });
    if (meter.limits)
      for (const [k, v] of Object.entries(rateLimitHeaders(meter.limits))) c.res.headers.set(k, v);
    if (meter.retryAfterMs !== null && c.res.status === 429)
      c.res.headers.set('retry-after-ms', String(meter.retryAfterMs));
    if (!meter.retryable)
      for (const [k, v] of Object.entries(NOT_RETRYABLE)) c.res.headers.set(k, v);
  };
}
