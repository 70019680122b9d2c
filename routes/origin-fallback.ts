// When no origin of a model answers: the next model of its fallback list (an edge model, which the
// route runs, or another origin pool, served here), billed at that model's price — the request's
// first admission, for the origin model, is settled as failed (free) and a fresh meter admits it again.
import type { Context } from 'hono';
import { Meter } from '../billing/meter';
import { prices } from '../billing/prices';
import type { Dispatcher } from '../dispatch/dispatcher';
import { fallbackTarget, nextFallback } from '../dispatch/fallback';
import type { OriginPool } from '../dispatch/registry';
import { UpstreamError } from '../dispatch/upstream';
import type { ApiError } from '../protocol/errors';
import type { AppEnv } from './env';
import type { OriginCall } from './origin-shapes';

/** The response, or the edge model to serve instead (origin fallbacks are followed here). */
export type OriginOutcome = { response: Response } | { fallback: string };

/** Models tried so far, and the fallbacks to try: the requested model's first, then those of any origin fallback. */
export interface Fallbacks {
  tried: Set<string>;
  chain: string[];
}

type Serve = (
  c: Context<AppEnv>,
  d: Dispatcher,
  pool: OriginPool,
  call: OriginCall,
  fallbacks: Fallbacks,
) => Promise<OriginOutcome>;

/** The next fallback, or `err` when none is left (or the request itself was refused). */
export async function fallBack(
  c: Context<AppEnv>,
  d: Dispatcher,
  pool: OriginPool,
  call: OriginCall,
  fallbacks: Fallbacks,
  err: ApiError,
  admitted: boolean,
  serve: Serve,
): Promise<OriginOutcome> {
  const next = nextFallback(fallbacks.chain, fallbacks.tried);
  const refused = err instanceof UpstreamError && err.clientError;
  if (admitted)
    await c
      .get('meter')
      ?.finish({ status: 'failed', promptTokens: 0, cachedTokens: 0, completionTokens: 0 });
  if (next === null || refused) throw err;
  console.warn(
    `request ${c.get('requestId')}: ${pool.id} unavailable (${err.message}); falling back to ${next}`,
  );
  if (admitted && c.get('meter')) c.set('meter', freshMeter(c));
  const target = fallbackTarget(d.registry(c.env), next);
  if (target.kind === 'edge') return { fallback: target.id };
  return serve(c, d, target.pool, call, {
    tried: fallbacks.tried,
    chain: [...fallbacks.chain, ...target.pool.fallbacks],
  });
}

/**
 * A second admission, for the fallback model. The metering middleware built the first meter; this
 * one is built the same way. (A `Meter` that could be re-admitted for another model would let the
 * billing code own this.)
 */
function freshMeter(c: Context<AppEnv>): Meter {
  return new Meter({
    db: c.env.DB,
    limiter: c.env.RATE_LIMITER,
    prices,
    key: c.get('key'),
    requestId: c.get('requestId'),
    idempotencyKey: c.req.header('idempotency-key') || null,
    waitUntil: waitUntilOf(c),
  });
}

export function waitUntilOf(c: Context<AppEnv>): (p: Promise<unknown>) => void {
  try {
    const ctx = c.executionCtx;
    return (p) => ctx.waitUntil(p);
  } catch {
    return (p) => void p.catch(() => {}); // app.request() without an execution context (tests)
  }
}
