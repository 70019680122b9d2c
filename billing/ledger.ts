// The ledger: one row per admitted request. `reserve` inserts the row 'pending' and takes the
// request's most possible cost from the balance in one transaction; `settle` writes the final
// counts and refunds reserved minus cost in another, guarded by status = 'pending' so it happens
// at most once whatever races or retries. A row left pending by a crashed isolate is settled by
// `sweepStale` as failed, refunding everything: money is never invented.
import type { CostBreakdown, TokenCounts } from './cost';
import type { Timing } from '../protocol/usage';
import type { AppliedPrice } from './prices';

export type LedgerStatus = 'pending' | 'completed' | 'disconnected' | 'failed';
export type FinalStatus = Exclude<LedgerStatus, 'pending'>;

export interface Reservation {
  ledgerId: string;
  requestId: string;
  accountId: string;
  keyId: string;
  idempotencyKey: string | null;
  requestHash: string | null;
  endpoint: string;
  model: string;
  servedBy: string;
  price: AppliedPrice;
  reservedNanos: number;
  startedAt: number;
}

export type ReserveOutcome = 'reserved' | 'insufficient_balance' | 'duplicate';

export async function reserve(db: D1Database, r: Reservation): Promise<ReserveOutcome> {
  const insert = db
    .prepare(
      `INSERT INTO ledger (id, request_id, account_id, api_key_id, idempotency_key, request_hash, endpoint, model, served_by,
         currency, off_peak, price_hit, price_miss, price_output, reserved_nanos, status, started_at)
       SELECT ?1, ?2, id, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 'pending', ?15
       FROM accounts WHERE id = ?16 AND balance_nanos >= ?14`,
    )
    .bind(
      r.ledgerId,
      r.requestId,
      r.keyId,
      r.idempotencyKey,
      r.requestHash,
      r.endpoint,
      r.model,
      r.servedBy,
      r.price.currency,
      r.price.offPeak ? 1 : 0,
      r.price.perToken.hit,
      r.price.perToken.miss,
      r.price.perToken.output,
      r.reservedNanos,
      r.startedAt,
      r.accountId,
    );
  const debit = db
    .prepare(
      'UPDATE accounts SET balance_nanos = balance_nanos - ?1 WHERE id = ?2 AND EXISTS (SELECT 1 FROM ledger WHERE id = ?3)',
    )
    .bind(r.reservedNanos, r.accountId, r.ledgerId);
  try {
    const [inserted] = await db.batch([insert, debit]);
    return inserted.meta.changes === 1 ? 'reserved' : 'insufficient_balance';
  } catch (err) {
    // The partial unique index on (key, idempotency key): the same request is in flight or done.
    if (r.idempotencyKey && /UNIQUE constraint failed/i.test(String(err))) return 'duplicate';
    throw err;
  }
}

export interface Settlement {
  status: FinalStatus;
  counts: TokenCounts;
  cost: CostBreakdown;
  finishedAt: number;
  /** A completed request's result, for idempotent replays. */
  replay?: string;
  /** Its time to first token and decode speed, where measured (null columns otherwise). */
  timing?: Timing;
}

/** Settles a pending row; false when it was already settled (nothing changes then). */
export async function settle(
  db: D1Database,
  ledgerId: string,
  accountId: string,
  s: Settlement,
): Promise<boolean> {
  // Both statements see the row still pending, or neither does anything: one transaction.
  const refund = db
    .prepare(
      `UPDATE accounts SET balance_nanos = balance_nanos + (SELECT reserved_nanos - ?1 FROM ledger WHERE id = ?2 AND status = 'pending')
       WHERE id = ?3 AND EXISTS (SELECT 1 FROM ledger WHERE id = ?2 AND status = 'pending')`,
    )
    .bind(s.cost.total, ledgerId, accountId);
  const final = db
    .prepare(
      `UPDATE ledger SET status = ?1, prompt_tokens = ?2, cache_hit_tokens = ?3, cache_miss_tokens = ?4, completion_tokens = ?5,
         cost_hit_nanos = ?6, cost_miss_nanos = ?7, cost_output_nanos = ?8, cost_nanos = ?9, finished_at = ?10, replay = ?11,
         ttft_ms = ?13, decode_tps = ?14
       WHERE id = ?12 AND status = 'pending'`,
    )
    .bind(
      s.status,
      s.counts.promptTokens,
      s.counts.cachedTokens,
      s.counts.promptTokens - s.counts.cachedTokens,
      s.counts.completionTokens,
      s.cost.hit,
      s.cost.miss,
      s.cost.output,
      s.cost.total,
      s.finishedAt,
      s.replay ?? null,
      ledgerId,
      s.timing?.ttft_ms ?? null,
      s.timing?.decode_tokens_per_second ?? null,
    );
  const [, updated] = await db.batch([refund, final]);
  return updated.meta.changes === 1;
}

export interface PriorRequest {
  status: 'pending' | 'completed';
  request_hash: string | null;
  replay: string | null;
}

/** The request an idempotency key already names (in flight or completed), if any. */
export async function findByIdempotencyKey(
  db: D1Database,
  keyId: string,
  idempotencyKey: string,
): Promise<PriorRequest | null> {
  return db
    .prepare(
      `SELECT status, request_hash, replay FROM ledger
       WHERE api_key_id = ? AND idempotency_key = ? AND status IN ('pending', 'completed')`,
    )
    .bind(keyId, idempotencyKey)
    .first<PriorRequest>();
}

const ZERO: CostBreakdown = { hit: 0, miss: 0, output: 0, total: 0 };

/** Settles rows pending since before `cutoff` (their isolate died) as failed, refunding them whole. */
export async function sweepStale(
  db: D1Database,
  cutoff: number,
  now = Date.now(),
): Promise<number> {
  const { results } = await db
    .prepare(
      "SELECT id, account_id FROM ledger WHERE status = 'pending' AND started_at < ? LIMIT 500",
    )
    .bind(cutoff)
    .all<{ id: string; account_id: string }>();
  let settled = 0;
  for (const row of results) {
    const counts = { promptTokens: 0, cachedTokens: 0, completionTokens: 0 };
    if (
      await settle(db, row.id, row.account_id, {
        status: 'failed',
        counts,
        cost: ZERO,
        finishedAt: now,
      })
    )
      settled++;
  }
  return settled;
}
