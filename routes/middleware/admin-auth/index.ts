// Guards the admin API with the ADMIN_SECRET binding (a Wrangler secret in production). With no
// secret configured the admin API is off: an empty default must never open it.
import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../../../protocol/errors';
import type { AppEnv } from '../../env';
import { bearerToken } from '../auth/index';

/** Compares digests, not the strings, so the time taken says nothing about the secret. */
async function sameSecret(given: string, secret: string): Promise<boolean> {
  const digest = (s: string) => crypto.subtle.digest('SHA-256', new TextEncoder().encode(s));
  const [a, b] = (await Promise.all([digest(given), digest(secret)])).map((d) => new Uint8Array(d));
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export function adminAuth(): MiddlewareHandler<AppEnv> {
  return async function adminAuth(c, next) {
    const secret = c.env.ADMIN_SECRET ?? '';
    if (!secret)
      throw new ApiError(
        403,
        'The admin API is disabled: no ADMIN_SECRET is configured.',
        'permission_error',
        'admin_disabled',
      );
    const token = bearerToken(c.req.header('authorization'));
    if (!token || !(await sameSecret(token, secret))) {
      throw new ApiError(
        401,
        'The admin API needs the admin secret as a Bearer token.',
        'authentication_error',
        'invalid_admin_secret',
      );
    }
    await next();
  };
}
