// API keys: made here, shown once, stored only as their SHA-256 hash. A key belongs to an account
// and carries its own rate limits.
import { DEFAULT_LIMITS, type KeyLimits } from './limits';

const KEY_PREFIX = 'sk-';

export interface ApiKeyRow {
  id: string;
  account_id: string;
  key_hint: string;
  name: string;
  rpm: number;
  tpm: number;
  max_concurrency: number;
  created_at: number;
  revoked_at: number | null;
}

/** What auth hands to the rest of a request: the key, its account and its limits. */
export interface AuthedKey {
  keyId: string;
  accountId: string;
  /** Salts the account's prompt-cache keys so tenants never share cache entries. */
  tenantSalt: string;
  limits: KeyLimits;
}

const hex = (bytes: ArrayBuffer | Uint8Array) =>
  Array.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('');

export const randomId = (prefix: string, bytes = 12) =>
  `${prefix}_${hex(crypto.getRandomValues(new Uint8Array(bytes)))}`;

/** A new secret key: `sk-` and 48 hex digits (192 random bits). */
export const generateKey = () => KEY_PREFIX + hex(crypto.getRandomValues(new Uint8Array(24)));

export async function hashKey(key: string): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key)));
}

export const keyHint = (key: string) => `${key.slice(0, 5)}…${key.slice(-4)}`;

/** A key someone brings (the dev key): printable, no whitespace, long enough to be a secret. */
export function checkImportedKey(key: string): string | null {
  if (!/^[\x21-\x7e]{8,200}$/.test(key))
    return 'key must be 8-200 printable characters without spaces';
  return null;
}

export interface NewKey {
  accountId: string;
  name?: string;
  limits?: Partial<KeyLimits>;
  /** Import this exact key instead of generating one (local development's DEV_API_KEY). */
  key?: string;
}

/** Creates a key; returns the row and the clear key, which is never stored and never shown again. */
export async function createKey(
  db: D1Database,
  input: NewKey,
  now = Date.now(),
): Promise<{ row: ApiKeyRow; key: string }> {
  const key = input.key ?? generateKey();
  const limits = { ...DEFAULT_LIMITS, ...input.limits };
  const row: ApiKeyRow = {
    id: randomId('key'),
    account_id: input.accountId,
    key_hint: keyHint(key),
    name: input.name ?? '',
    rpm: limits.rpm,
    tpm: limits.tpm,
    max_concurrency: limits.maxConcurrency,
    created_at: now,
    revoked_at: null,
  };
  await db
    .prepare(
      `INSERT INTO api_keys (id, account_id, key_hash, key_hint, name, rpm, tpm, max_concurrency, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(
      row.id,
      row.account_id,
      await hashKey(key),
      row.key_hint,
      row.name,
      row.rpm,
      row.tpm,
      row.max_concurrency,
      now,
    )
    .run();
  return { row, key };
}

/** Revokes a key; true when it existed and was active. */
export async function revokeKey(db: D1Database, keyId: string, now = Date.now()): Promise<boolean> {
  const res = await db
    .prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
    .bind(now, keyId)
    .run();
  return res.meta.changes === 1;
}

export async function getKey(db: D1Database, keyId: string): Promise<ApiKeyRow | null> {
  return db
    .prepare(
      'SELECT id, account_id, key_hint, name, rpm, tpm, max_concurrency, created_at, revoked_at FROM api_keys WHERE id = ?',
    )
    .bind(keyId)
    .first<ApiKeyRow>();
}

export async function findKeyByHash(
  db: D1Database,
  keyHash: string,
): Promise<(ApiKeyRow & { tenant_salt: string }) | null> {
  return db
    .prepare(
      `SELECT k.id, k.account_id, k.key_hint, k.name, k.rpm, k.tpm, k.max_concurrency, k.created_at, k.revoked_at, a.tenant_salt
       FROM api_keys k JOIN accounts a ON a.id = k.account_id WHERE k.key_hash = ?`,
    )
    .bind(keyHash)
    .first();
}

/** The active key for a clear key, or null (unknown or revoked). */
export async function authenticate(db: D1Database, key: string): Promise<AuthedKey | null> {
  const row = await findKeyByHash(db, await hashKey(key));
  if (!row || row.revoked_at !== null) return null;
  return {
    keyId: row.id,
    accountId: row.account_id,
    tenantSalt: row.tenant_salt,
    limits: { rpm: row.rpm, tpm: row.tpm, maxConcurrency: row.max_concurrency },
  };
}
