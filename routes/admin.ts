// The admin API (behind the admin secret): accounts, top-ups, keys, and the sweep that settles
// reservations an isolate left behind. Keys are shown once, at creation.
import { Hono } from 'hono';
import { z } from 'zod';
import { createAccount, getAccount, topUp, type AccountRow } from '../billing/accounts';
import {
  authenticate,
  checkImportedKey,
  createKey,
  getKey,
  hashKey,
  findKeyByHash,
  revokeKey,
  type ApiKeyRow,
} from '../billing/keys';
import { sweepStale } from '../billing/ledger';
import { keyLimitsInput } from '../billing/limits';
import { LEASE_TTL_MS } from '../billing/rate-limit';
import { formatAmount, parseAmount } from '../billing/money';
import { prices } from '../billing/prices';
import { ApiError, invalidRequest } from '../protocol/errors';
import { readBody } from '../protocol/body';
import type { AppEnv } from './env';
import { adminAuth } from './middleware/admin-auth/index';

const amount = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    const nanos = parseAmount(v);
    if (nanos > 0) return nanos;
    ctx.addIssue({ code: 'custom', message: 'must be more than 0' });
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
  return z.NEVER;
});

const newAccount = z.strictObject({ name: z.string().min(1).max(200), top_up: amount.optional() });
const newTopUp = z.strictObject({ amount, note: z.string().max(500).optional() });
const newKey = keyLimitsInput.extend({
  account_id: z.string().min(1),
  name: z.string().max(200).optional(),
  key: z.string().optional(),
});
const lookup = z.strictObject({ key: z.string().min(1) });

const accountView = (a: AccountRow) => ({
  id: a.id,
  object: 'account',
  name: a.name,
  currency: prices.currency,
  balance: formatAmount(a.balance_nanos),
  balance_nanos: a.balance_nanos,
  created_at: a.created_at,
});

const keyView = (k: ApiKeyRow) => ({
  id: k.id,
  object: 'api_key',
  account_id: k.account_id,
  name: k.name,
  key_hint: k.key_hint,
  limits: { rpm: k.rpm, tpm: k.tpm, max_concurrency: k.max_concurrency },
  created_at: k.created_at,
  revoked_at: k.revoked_at,
});

const notFound = (what: string, id: string) =>
  new ApiError(404, `No ${what} '${id}'.`, 'not_found_error', `${what}_not_found`);

export function admin() {
  const app = new Hono<AppEnv>();
  app.use('*', adminAuth());

  app.post('/accounts', async (c) => {
    const body = await readBody(c, newAccount);
    const account = await createAccount(c.env.DB, body.name);
    if (body.top_up) await topUp(c.env.DB, account.id, body.top_up, 'opening balance');
    return c.json(accountView((await getAccount(c.env.DB, account.id))!), 201);
  });

  app.get('/accounts/:id', async (c) => {
    const account = await getAccount(c.env.DB, c.req.param('id'));
    if (!account) throw notFound('account', c.req.param('id'));
    const { results } = await c.env.DB.prepare(
      'SELECT * FROM api_keys WHERE account_id = ? ORDER BY created_at',
    )
      .bind(account.id)
      .all<ApiKeyRow>();
    return c.json({ ...accountView(account), keys: results.map(keyView) });
  });

  app.post('/accounts/:id/top-ups', async (c) => {
    const body = await readBody(c, newTopUp);
    const balance = await topUp(c.env.DB, c.req.param('id'), body.amount, body.note);
    if (balance === null) throw notFound('account', c.req.param('id'));
    return c.json(
      {
        account_id: c.req.param('id'),
        currency: prices.currency,
        balance: formatAmount(balance),
        balance_nanos: balance,
      },
      201,
    );
  });

  app.post('/keys', async (c) => {
    const body = await readBody(c, newKey);
    if (body.key !== undefined) {
      const problem = checkImportedKey(body.key);
      if (problem) throw invalidRequest(problem, 'key', 'invalid_value');
      if (await findKeyByHash(c.env.DB, await hashKey(body.key)))
        throw new ApiError(
          409,
          'This key already exists.',
          'invalid_request_error',
          'key_exists',
          'key',
        );
    }
    if (!(await getAccount(c.env.DB, body.account_id))) throw notFound('account', body.account_id);
    const limits = { rpm: body.rpm, tpm: body.tpm, maxConcurrency: body.max_concurrency };
    const { row, key } = await createKey(c.env.DB, {
      accountId: body.account_id,
      name: body.name,
      key: body.key,
      limits: defined(limits),
    });
    return c.json({ ...keyView(row), key }, 201);
  });

  app.post('/keys/lookup', async (c) => {
    const { key } = await readBody(c, lookup);
    const row = await findKeyByHash(c.env.DB, await hashKey(key));
    if (!row) throw notFound('key', keyHintOf(key));
    const account = await getAccount(c.env.DB, row.account_id);
    return c.json({
      ...keyView(row),
      active: (await authenticate(c.env.DB, key)) !== null,
      account: account && accountView(account),
    });
  });

  app.delete('/keys/:id', async (c) => {
    const id = c.req.param('id');
    if (!(await revokeKey(c.env.DB, id))) {
      if (!(await getKey(c.env.DB, id))) throw notFound('key', id);
    }
    return c.json(keyView((await getKey(c.env.DB, id))!));
  });

  app.post('/ledger/sweep', async (c) => {
    // Past the rate limiter's lease lifetime no live request can still own a pending row.
    const settled = await sweepStale(c.env.DB, Date.now() - LEASE_TTL_MS);
    return c.json({ settled });
  });

  return app;
}

const keyHintOf = (key: string) => `${key.slice(0, 5)}…`;

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
