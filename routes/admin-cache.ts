// POST /admin/prompt-cache/purge (behind the admin secret): deletes a tenant's (account's) or a
// model's prompt-cache entries, or one tenant's entries of one model. KV deletes one key per call
// and a Worker invocation has a bounded number of KV operations, so one purge call deletes at most
// one listing page; `complete: false` with a `cursor` asks the caller to call again with it.
import { Hono } from 'hono';
import { z } from 'zod';
import { getAccount } from '../billing/accounts';
import { keyPrefix, modelOfKey } from '../dispatch/prompt-cache';
import { ApiError } from '../protocol/errors';
import { readBody } from '../protocol/body';
import type { AppEnv } from './env';
import { adminAuth } from './middleware/admin-auth/index';

/** Keys listed (and at most deleted) per call. */
export const PURGE_PAGE = 500;
const DELETE_CONCURRENCY = 16;

const purgeRequest = z
  .strictObject({
    account_id: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    cursor: z.string().min(1).optional(),
  })
  .refine((r) => r.account_id !== undefined || r.model !== undefined, {
    message: 'name an account_id, a model, or both',
  });

export function adminCache() {
  const app = new Hono<AppEnv>();
  app.use('*', adminAuth());

  app.post('/purge', async (c) => {
    const body = await readBody(c, purgeRequest);
    const kv = c.env.PROMPT_CACHE;
    if (!kv)
      throw new ApiError(
        409,
        'The prompt cache is not configured (no PROMPT_CACHE binding).',
        'invalid_request_error',
        'prompt_cache_disabled',
      );
    let prefix = keyPrefix();
    if (body.account_id !== undefined) {
      const account = await getAccount(c.env.DB, body.account_id);
      if (!account)
        throw new ApiError(
          404,
          `No account '${body.account_id}'.`,
          'not_found_error',
          'account_not_found',
          'account_id',
        );
      prefix = keyPrefix(account.tenant_salt) + (body.model === undefined ? '' : `${body.model}@`);
    }
    // A model across tenants has no common prefix: list every entry and match the model part.
    const page = await kv.list({ prefix, cursor: body.cursor, limit: PURGE_PAGE });
    const doomed = page.keys
      .map((k) => k.name)
      .filter((name) => body.model === undefined || modelOfKey(name) === body.model);
    for (let i = 0; i < doomed.length; i += DELETE_CONCURRENCY)
      await Promise.all(doomed.slice(i, i + DELETE_CONCURRENCY).map((k) => kv.delete(k)));
    return c.json({
      object: 'prompt_cache.purge',
      deleted: doomed.length,
      complete: page.list_complete,
      cursor: page.list_complete ? null : page.cursor,
    });
  });
  return app;
}
