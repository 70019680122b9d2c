// Test helpers for billing: migrate D1 (the real migrations, as wrangler applies them), provision
// accounts and keys, call the Worker with a key or the admin secret.
import { applyD1Migrations } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { createAccount, getAccount, topUp } from '../../../billing/accounts';
import { createKey } from '../../../billing/keys';
import type { KeyLimits } from '../../../billing/limits';
import { parseAmount } from '../../../billing/money';

export async function migrate(): Promise<void> {
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
}

export interface TestKey {
  key: string;
  keyId: string;
  accountId: string;
}

/** A new account with `balance` (currency units) and one key; generous limits unless given. */
export async function provisionKey(
  opts: { balance?: string; limits?: Partial<KeyLimits>; key?: string } = {},
): Promise<TestKey> {
  await migrate();
  const account = await createAccount(env.DB, 'test account');
  const balance = parseAmount(opts.balance ?? '10');
  if (balance > 0) await topUp(env.DB, account.id, balance, 'test balance');
  const limits = { rpm: 10_000, tpm: 10_000_000, maxConcurrency: 64, ...opts.limits };
  const { row, key } = await createKey(env.DB, {
    accountId: account.id,
    name: 'test',
    limits,
    key: opts.key,
  });
  return { key, keyId: row.id, accountId: account.id };
}

export async function balanceNanos(accountId: string): Promise<number> {
  return (await getAccount(env.DB, accountId))!.balance_nanos;
}

export const call = (path: string, init: RequestInit & { key?: string } = {}) => {
  const headers = new Headers(init.headers);
  if (init.key) headers.set('authorization', `Bearer ${init.key}`);
  if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
  return exports.default.fetch(new Request(`http://edge.test${path}`, { ...init, headers }));
};

export const adminCall = (path: string, init: RequestInit = {}) =>
  call(path, { ...init, key: env.ADMIN_SECRET });

export interface LedgerRow {
  id: string;
  request_id: string;
  status: string;
  model: string;
  served_by: string;
  prompt_tokens: number;
  completion_tokens: number;
  cache_hit_tokens: number;
  cost_nanos: number;
  reserved_nanos: number;
  idempotency_key: string | null;
}

export async function ledgerOf(keyId: string): Promise<LedgerRow[]> {
  const { results } = await env.DB.prepare(
    'SELECT * FROM ledger WHERE api_key_id = ? ORDER BY started_at',
  )
    .bind(keyId)
    .all<LedgerRow>();
  return results;
}
