// Local development's account: apply the D1 migrations to local state, then make sure the key in
// DEV_API_KEY (default sk-local-dev) exists with at least the test balance, through the admin API
// of the running local Worker. Used by `npm start`.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { formatAmount } from '../billing/money';
import { repoRoot } from './paths';

export const DEV_API_KEY = process.env.DEV_API_KEY || 'sk-local-dev';
/** The balance a dev key is kept at, at least (currency units). */
const TEST_BALANCE = '10';
const TEST_BALANCE_NANOS = 10_000_000_000;
const DEV_LIMITS = { rpm: 600, tpm: 10_000_000, max_concurrency: 16 };

/** `wrangler d1 migrations apply DB --local`: non-interactive here, so it does not ask. */
export function migrateLocal(persistTo?: string): void {
  const args = ['d1', 'migrations', 'apply', 'DB', '--local'];
  if (persistTo) args.push('--persist-to', persistTo);
  const bin = join(repoRoot, 'node_modules/.bin');
  const run = spawnSync(join(bin, 'wrangler'), args, {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      WRANGLER_SEND_METRICS: 'false',
      CI: 'true',
    },
    encoding: 'utf8',
  });
  if (run.status !== 0)
    throw new Error(`wrangler d1 migrations apply failed:\n${run.stdout}\n${run.stderr}`);
}

async function adminApi<T>(
  url: string,
  secret: string,
  path: string,
  body: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

interface Account {
  id: string;
  balance: string;
  balance_nanos: number;
}

/** Creates the dev key (or finds it) and tops its account up to the test balance; returns the balance. */
export async function provisionDevKey(
  url: string,
  adminSecret: string,
  key = DEV_API_KEY,
): Promise<string> {
  const found = await adminApi<{ account: Account; active: boolean }>(
    url,
    adminSecret,
    '/admin/keys/lookup',
    { key },
  );
  if (found.status === 200) {
    if (!found.body.active)
      throw new Error(
        `DEV_API_KEY ${key.slice(0, 6)}… was revoked in this local state; pick another DEV_API_KEY`,
      );
    const short = TEST_BALANCE_NANOS - found.body.account.balance_nanos;
    if (short <= 0) return found.body.account.balance;
    const top = await adminApi<{ balance: string }>(
      url,
      adminSecret,
      `/admin/accounts/${found.body.account.id}/top-ups`,
      {
        amount: formatAmount(short),
        note: 'dev balance refill',
      },
    );
    return top.body.balance;
  }
  const account = await adminApi<Account>(url, adminSecret, '/admin/accounts', {
    name: 'local development',
    top_up: TEST_BALANCE,
  });
  if (account.status !== 201)
    throw new Error(`could not create the dev account: ${JSON.stringify(account.body)}`);
  const created = await adminApi(url, adminSecret, '/admin/keys', {
    account_id: account.body.id,
    name: 'DEV_API_KEY',
    key,
    ...DEV_LIMITS,
  });
  if (created.status !== 201)
    throw new Error(`could not create the dev key: ${JSON.stringify(created.body)}`);
  return account.body.balance;
}
