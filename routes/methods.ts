// 405 for a method a path does not serve (PATCH or WebDAV's PROPFIND on /v1/chat/completions):
// the OpenAI error shape with `allow`, where Hono alone would answer 404 (and a runtime that does
// not know the method, a plain-text 501). The allowed methods come from the app's own routes, so
// this table cannot drift from them.
import type { Hono } from 'hono';
import { ApiError } from '../protocol/errors';

const CANDIDATES = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Methods that have a route (not just middleware) at `path`; HEAD wherever GET is. */
export function allowedMethods(app: Hono<any>, path: string): string[] {
  // The router stores [handler, route] pairs; middleware (app.use) is registered for 'ALL'.
  const allowed = CANDIDATES.filter((m) =>
    app.router.match(m, path)[0].some(([[, route]]) => route.method !== 'ALL'),
  );
  return allowed.includes('GET') ? [...allowed, 'HEAD'] : [...allowed];
}

export const methodNotAllowed = (method: string, path: string, allowed: string[]) =>
  new ApiError(
    405,
    `Method ${method} is not allowed on ${path}; use ${allowed.join(', ')}.`,
    'invalid_request_error',
    'method_not_allowed',
  );
