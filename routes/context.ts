// What a route hands on from its Hono context: `waitUntil` (the one helper: billing settlement,
// prompt-cache writes and health probes outlive the response through it) and the request as
// dispatch sees it.
import type { Context } from 'hono';
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
});
