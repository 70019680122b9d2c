// The origin-to-origin endpoints (--role, docs/origin.md "Roles"), behind the shared secret: the hand-off
// stream a decode origin pulls (internal-prefill.ts) and the same prompt as prompt-cache entries
// (internal-entries.ts).
import type { Hono } from 'hono';
import { cacheEntryRoutes } from './internal-entries';
import { prefillRoute, type InternalContext } from './internal-prefill';

export type { InternalContext } from './internal-prefill';

export function internalRoutes(app: Hono<any>, ctx: InternalContext): void {
  prefillRoute(app, ctx);
  cacheEntryRoutes(app, ctx);
}
