// Bearer-key auth: the key is hashed and looked up in D1; the key, its account and its limits go
// to later handlers as `c.get('key')`. Missing and unknown keys are 401s (in the shape of the app's
// onError). The Anthropic routes also take the key from `x-api-key`.
import type { Context, MiddlewareHandler } from 'hono';
import { authenticate } from '../../../billing/keys';
import { ApiError } from '../../../protocol/errors';
import type { AppEnv } from '../../env';

const missingKey = () =>
  new ApiError(
    401,
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    'authentication_error',
    'missing_api_key',
  );

const invalidKey = () =>
  new ApiError(
    401,
    'Incorrect API key provided, or the key was revoked.',
    'authentication_error',
    'invalid_api_key',
  );

/** The bearer token of an `Authorization` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m ? m[1] : null;
}

export interface AuthOptions {
  /** Also take the key from `x-api-key`, as Anthropic's clients send it (the /anthropic routes). */
  apiKeyHeader?: boolean;
}

/** The request's key: its bearer token, else (where allowed) its `x-api-key`. */
export const requestToken = (c: Context<AppEnv>, options: AuthOptions = {}): string | null =>
  bearerToken(c.req.header('authorization')) ??
  (options.apiKeyHeader ? c.req.header('x-api-key')?.trim() || null : null);

export function auth(options: AuthOptions = {}): MiddlewareHandler<AppEnv> {
  return async function auth(c, next) {
    const token = requestToken(c, options);
    if (!token) throw missingKey();
    const key = await authenticate(c.env.DB, token);
    if (!key) throw invalidKey();
    c.set('key', key);
    await next();
  };
}
