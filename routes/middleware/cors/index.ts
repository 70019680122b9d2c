// CORS for the API: browsers may call it as they may call OpenAI's (openai-node's
// dangerouslyAllowBrowser, web chat UIs). A key travels in a header, never in a cookie, so any
// origin may ask (`*`, no credentials): a page can spend only a key it was given. A preflight is
// answered before auth; every answer, errors and streams too, names the headers a client may read.
// The admin API gets none of this (app.ts does not mount it there): no browser should call it.
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';

/** Response headers a browser client may read: openai-node reads the id and the retry ones. */
const EXPOSED = [
  'x-request-id',
  'retry-after',
  'retry-after-ms',
  'x-should-retry',
  ...['requests', 'tokens'].flatMap((r) =>
    ['limit', 'remaining', 'reset'].map((k) => `x-ratelimit-${k}-${r}`),
  ),
  'server-timing',
  'idempotent-replayed',
  'original-request',
  'x-served-by',
  'x-served-model',
  'x-fallback-from',
  'x-prefilled-by',
];

export function apiCors(): MiddlewareHandler {
  const allow = cors({
    origin: '*',
    allowMethods: ['GET', 'HEAD', 'POST'],
    exposeHeaders: EXPOSED,
    maxAge: 86_400,
  });
  return async function apiCors(c, next) {
    // an OPTIONS that is no preflight is a method these paths do not serve: the app's 405
    if (c.req.method === 'OPTIONS' && !c.req.header('access-control-request-method')) return next();
    return allow(c, next);
  };
}
