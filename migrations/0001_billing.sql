-- Accounts, API keys, the request ledger and balance top-ups. Amounts are integer nano-units
-- (1e-9 of the price book's currency). Keys are stored only as SHA-256 hashes.

CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  -- Isolates this tenant's prompt-cache entries from every other tenant's.
  tenant_salt TEXT NOT NULL,
  -- Spendable balance: top-ups minus settled costs minus reservations of requests in flight.
  balance_nanos INTEGER NOT NULL DEFAULT 0 CHECK (balance_nanos >= 0),
  created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts (id),
  key_hash TEXT NOT NULL UNIQUE,
  -- The key's first and last characters, for people to tell keys apart ("sk-ab…wxyz").
  key_hint TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  rpm INTEGER NOT NULL,
  tpm INTEGER NOT NULL,
  max_concurrency INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX api_keys_account ON api_keys (account_id);

-- One row per request that passed auth, limits and the balance check. Inserted 'pending' with the
-- reservation taken from the balance in the same transaction; settled exactly once (the refund of
-- reserved minus cost and the final counts in one transaction, guarded by status = 'pending').
CREATE TABLE ledger (
  id TEXT PRIMARY KEY,
  request_id TEXT NOT NULL,
  account_id TEXT NOT NULL REFERENCES accounts (id),
  api_key_id TEXT NOT NULL REFERENCES api_keys (id),
  idempotency_key TEXT,
  request_hash TEXT,
  endpoint TEXT NOT NULL,
  model TEXT NOT NULL,
  served_by TEXT NOT NULL,
  currency TEXT NOT NULL,
  off_peak INTEGER NOT NULL DEFAULT 0,
  -- Prices applied, pico-units per token.
  price_hit INTEGER NOT NULL,
  price_miss INTEGER NOT NULL,
  price_output INTEGER NOT NULL,
  reserved_nanos INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'disconnected', 'failed')),
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  cache_hit_tokens INTEGER NOT NULL DEFAULT 0,
  cache_miss_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  cost_hit_nanos INTEGER NOT NULL DEFAULT 0,
  cost_miss_nanos INTEGER NOT NULL DEFAULT 0,
  cost_output_nanos INTEGER NOT NULL DEFAULT 0,
  cost_nanos INTEGER NOT NULL DEFAULT 0 CHECK (cost_nanos <= reserved_nanos),
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  -- A completed request's result, replayed to a retry with the same idempotency key.
  replay TEXT
);
CREATE INDEX ledger_key_time ON ledger (api_key_id, started_at);
CREATE INDEX ledger_pending ON ledger (status, started_at) WHERE status = 'pending';
-- A key's idempotency key names one request in flight or done; failed and abandoned ones may be retried.
CREATE UNIQUE INDEX ledger_idempotency ON ledger (api_key_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL AND status IN ('pending', 'completed');

CREATE TABLE top_ups (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts (id),
  amount_nanos INTEGER NOT NULL CHECK (amount_nanos > 0),
  note TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
