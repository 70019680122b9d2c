// One request's metering: `admit` checks the key's limits (Durable Object), prices the request and
// reserves its most possible cost (D1); `finish` turns what was produced into a cost and settles
// the ledger exactly once, whichever of completion, failure or disconnect comes first.
import { ApiError } from '../protocol/errors';
import type { Cost } from '../protocol/usage';
import { costOf, maxCost, type TokenCounts } from './cost';
import { hashKey, type AuthedKey } from './keys';
import { findByIdempotencyKey, reserve, settle, type FinalStatus } from './ledger';
import { formatAmount } from './money';
import type { AppliedPrice, Placement, PriceBook } from './prices';
import type { AcquireResult, LimitSnapshot } from './rate-limit';
import type { RateLimiter } from './rate-limiter-object';
import { toWireCost } from './wire';

export interface MeterDeps {
  db: D1Database;
  limiter: DurableObjectNamespace<RateLimiter>;
  prices: PriceBook;
  key: AuthedKey;
  requestId: string;
  idempotencyKey: string | null;
  /** Keeps settlement alive after the response (a client gone mid-stream). */
  waitUntil: (promise: Promise<unknown>) => void;
  now?: () => number;
}

export interface Admission {
  endpoint: string;
  model: string;
  placement: Placement;
  servedBy: string;
  promptTokens: number;
  maxTokens: number;
  /** The validated request; an idempotent retry must send the same one. */
  request: unknown;
}

export interface Outcome extends TokenCounts {
  status: FinalStatus;
  /** A completed request's result with its cost, as JSON: replayed to a retry with the same idempotency key. */
  replay?: (cost: Cost) => string;
}

interface Admitted {
  ledgerId: string;
  leaseId: string;
  price: AppliedPrice;
  reservedNanos: number;
}

export class Meter {
  /** The key's limits as of admission (or refusal), for the x-ratelimit-* headers. */
  limits: LimitSnapshot | null = null;
  retryAfterMs: number | null = null;
  private admitted: Admitted | null = null;
  private finished: Promise<Cost | undefined> | null = null;

  constructor(private readonly deps: MeterDeps) {}

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  private stub() {
    const { limiter, key } = this.deps;
    return limiter.get(limiter.idFromName(key.keyId));
  }

  /** Admits the request or throws 402/409/422/429; returns a stored result to replay instead, if any. */
  async admit(a: Admission): Promise<string | null> {
    const { db, key, idempotencyKey } = this.deps;
    const requestHash = idempotencyKey ? await hashKey(JSON.stringify(a.request)) : null;
    if (idempotencyKey) {
      const prior = await findByIdempotencyKey(db, key.keyId, idempotencyKey);
      if (prior) return replayOf(prior, requestHash);
    }
    const limit = (await this.stub().acquire(key.limits, a.promptTokens + a.maxTokens)) as AcquireResult;
    this.limits = limit.snapshot;
    if (!limit.ok) {
      this.retryAfterMs = limit.retryAfterMs;
      throw rateLimited(limit, a.promptTokens + a.maxTokens);
    }
    const startedAt = this.now();
    const price = this.deps.prices.priceAt(a.model, a.placement, new Date(startedAt));
    const reservedNanos = maxCost(a.promptTokens, a.maxTokens, price);
    const ledgerId = crypto.randomUUID();
    const outcome = await reserve(db, {
      ledgerId, requestId: this.deps.requestId, accountId: key.accountId, keyId: key.keyId, idempotencyKey, requestHash,
      endpoint: a.endpoint, model: a.model, servedBy: a.servedBy, price, reservedNanos, startedAt,
    }).catch(async (err) => {
      await this.stub().release(limit.leaseId, 0);
      throw err;
    });
    if (outcome !== 'reserved') {
      await this.stub().release(limit.leaseId, 0);
      if (outcome === 'duplicate') throw idempotencyInUse();
      throw insufficientBalance(reservedNanos, price.currency);
    }
    this.admitted = { ledgerId, leaseId: limit.leaseId, price, reservedNanos };
    return null;
  }

  /** Settles once (later calls return the first call's cost); undefined when never admitted. */
  finish(o: Outcome): Promise<Cost | undefined> {
    if (!this.finished) {
      this.finished = this.settle(o);
      this.deps.waitUntil(this.finished);
    }
    return this.finished;
  }

  private async settle(o: Outcome): Promise<Cost | undefined> {
    const admitted = this.admitted;
    if (!admitted) return undefined;
    // Nothing produced, nothing delivered: a request that failed or was abandoned before its
    // first token costs nothing. Otherwise the prompt and every produced token are billed.
    const counts: TokenCounts = o.status !== 'completed' && o.completionTokens === 0 ? { promptTokens: 0, cachedTokens: 0, completionTokens: 0 } : o;
    const cost = costOf(counts, admitted.price);
    if (cost.total > admitted.reservedNanos) {
      // Cannot happen while maxCost bounds costOf; never charge past what was reserved.
      console.error(`request ${this.deps.requestId}: cost ${cost.total} exceeds reservation ${admitted.reservedNanos}`);
      cost.total = admitted.reservedNanos;
    }
    const { db, key } = this.deps;
    const wire = toWireCost(cost, admitted.price);
    const replay = o.status === 'completed' && this.deps.idempotencyKey ? o.replay?.(wire) : undefined;
    const results = await Promise.allSettled([
      settle(db, admitted.ledgerId, key.accountId, { status: o.status, counts, cost, finishedAt: this.now(), replay }),
      this.stub().release(admitted.leaseId, o.promptTokens + o.completionTokens),
    ]);
    for (const r of results) {
      // A pending row left behind is refunded whole by the sweeper; the request is not failed for it.
      if (r.status === 'rejected') console.error(`request ${this.deps.requestId}: settlement failed:`, r.reason);
    }
    return wire;
  }
}

function replayOf(prior: { status: string; request_hash: string | null; replay: string | null }, requestHash: string | null): string {
  if (prior.request_hash !== requestHash) {
    throw new ApiError(422, 'This idempotency key was already used with a different request body.', 'invalid_request_error', 'idempotency_key_reused', 'idempotency-key');
  }
  if (prior.status === 'pending' || !prior.replay) throw idempotencyInUse();
  return prior.replay;
}

const idempotencyInUse = () =>
  new ApiError(409, 'A request with this idempotency key is still in progress; retry after it finishes.', 'invalid_request_error', 'idempotency_key_in_use', 'idempotency-key', 1);

const insufficientBalance = (reservedNanos: number, currency: string) =>
  new ApiError(
    402,
    `Insufficient Balance: this request may cost up to ${formatAmount(reservedNanos)} ${currency}, more than your balance. Top up your balance, or lower max_tokens.`,
    'insufficient_balance',
    'insufficient_balance',
  );

function rateLimited(limit: Extract<AcquireResult, { ok: false }>, tokens: number): ApiError {
  const s = limit.snapshot;
  const retryAfter = Math.max(1, Math.ceil(limit.retryAfterMs / 1000));
  const wait = `Please try again in ${(limit.retryAfterMs / 1000).toFixed(3)}s.`;
  switch (limit.reason) {
    case 'too_large':
      return new ApiError(429, `Request too large for tokens per min (TPM): Limit ${s.limitTokens}, Requested ${tokens}. Lower max_tokens or the prompt.`, 'rate_limit_error', 'rate_limit_exceeded');
    case 'concurrency':
      return new ApiError(429, 'Too many requests in flight for this key; wait for one to finish.', 'rate_limit_error', 'concurrency_limit_exceeded', null, retryAfter);
    case 'requests':
      return new ApiError(429, `Rate limit reached for requests per min (RPM): Limit ${s.limitRequests}, Remaining ${s.remainingRequests}. ${wait}`, 'rate_limit_error', 'rate_limit_exceeded', null, retryAfter);
    case 'tokens':
      return new ApiError(429, `Rate limit reached for tokens per min (TPM): Limit ${s.limitTokens}, Remaining ${s.remainingTokens}, Requested ${tokens}. ${wait}`, 'rate_limit_error', 'rate_limit_exceeded', null, retryAfter);
  }
}
