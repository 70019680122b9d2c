// Accounts and their prepaid balances. Top-ups are recorded and credited in one transaction.
import { randomId } from './keys';

export interface AccountRow {
  id: string;
  name: string;
  tenant_salt: string;
  balance_nanos: number;
  created_at: number;
}

export async function createAccount(
  db: D1Database,
  name: string,
  now = Date.now(),
): Promise<AccountRow> {
  const row: AccountRow = {
    id: randomId('acct'),
    name,
    tenant_salt: randomId('salt', 16),
    balance_nanos: 0,
    created_at: now,
  };
  await db
    .prepare(
      'INSERT INTO accounts (id, name, tenant_salt, balance_nanos, created_at) VALUES (?, ?, ?, 0, ?)',
    )
    .bind(row.id, row.name, row.tenant_salt, now)
    .run();
  return row;
}

export async function getAccount(db: D1Database, accountId: string): Promise<AccountRow | null> {
  return db
    .prepare('SELECT id, name, tenant_salt, balance_nanos, created_at FROM accounts WHERE id = ?')
    .bind(accountId)
    .first<AccountRow>();
}

/** Credits `amountNanos`; returns the new balance, or null when the account does not exist (or would overflow). */
export async function topUp(
  db: D1Database,
  accountId: string,
  amountNanos: number,
  note = '',
  now = Date.now(),
): Promise<number | null> {
  if (!Number.isSafeInteger(amountNanos) || amountNanos <= 0)
    throw new RangeError('a top-up must be a positive integer of nano-units');
  const [credit] = await db.batch([
    db
      .prepare(
        'UPDATE accounts SET balance_nanos = balance_nanos + ?1 WHERE id = ?2 AND balance_nanos + ?1 <= ?3',
      )
      .bind(amountNanos, accountId, Number.MAX_SAFE_INTEGER),
    db
      .prepare(
        'INSERT INTO top_ups (id, account_id, amount_nanos, note, created_at) SELECT ?, id, ?, ?, ? FROM accounts WHERE id = ? AND changes() = 1',
      )
      .bind(randomId('topup'), amountNanos, note, now, accountId),
  ]);
  if (credit.meta.changes !== 1) return null;
  return (await getAccount(db, accountId))?.balance_nanos ?? null;
}
