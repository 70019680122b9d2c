// What a route hands on from its Hono context: `waitUntil` (the one helper: billing settlement,
// prompt-cache writes and health probes outlive the response through it) and the request as
// dispatch sees it.
import type { Context } from 'hono';
import { invalidRequest } from '../protocol/errors';
import type { PlacementRequest } from '../dispatch/placement';
import type { AppEnv } from './env';

/** The execution context's waitUntil; under app.request() (tests) there is none, and the promise just runs. */
export function waitUntilOf(c: Context<AppEnv>): (p: Promise<unknown>) => void {
  try {
    const ctx = c.executionCtx;
    return (p) => ctx.waitUntil(p);
  } catch {
    return (p) => void p.catch(() => {}); // nobody awaits it: a rejection must not go unhandled
  }
}

/** The client's request for dispatch/placement.ts. */
export const placementRequest = (c: Context<AppEnv>): PlacementRequest => ({
  env: c.env,
  requestId: c.get('requestId'),
  tenantSalt: c.get('key')?.tenantSalt ?? 'public',
  signal: c.req.raw.signal,
  meter: c.get('meter'),
  waitUntil: waitUntilOf(c),
  refuseFallback: refusesFallback(c.req.header(FALLBACK_HEADER)),
  latency: c.get('latency'),
});

/** The request header by which a client refuses an answer from a fallback model. */
export const FALLBACK_HEADER = 'x-fallback';

/** `x-fallback: none` refuses fallbacks; `auto` (or no header) leaves it to the registry. */
function refusesFallback(value: string | undefined): boolean {
  const v = value?.trim().toLowerCase();
  if (v === undefined || v === '' || v === 'auto') return false;
  if (v === 'none') return true;
  throw invalidRequest(
    `The ${FALLBACK_HEADER} header takes 'none' (answer only from the model asked for) or 'auto'; got '${value}'.`,
    FALLBACK_HEADER,
  );
}
