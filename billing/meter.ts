// One request's metering: `admit` checks the key's limits (Durable Object), prices the request and
// reserves its most possible cost (D1); `finish` turns what was produced into a cost and settles
// the ledger exactly once, whichever of completion, failure or disconnect comes first.
import type { Cost, Timing } from '../protocol/usage';
import { costOf, maxCost, type TokenCounts } from './cost';
import { hashKey, type AuthedKey } from './keys';
import { findByIdempotencyKey, reserve, settle, type FinalStatus } from './ledger';
import type { AppliedPrice, Placement, PriceBook } from './prices';
import type { AcquireResult, LimitSnapshot } from './rate-limit';
import type { RateLimiter } from './rate-limiter-object';
import { idempotencyInUse, insufficientBalance, rateLimited, replayOf } from './refusals';
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
  /** The request's time to first token and decode speed (protocol/latency.ts), recorded beside its counts. */
  timing?: Timing;
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
  /** False when the refusal would be the same however long the client waited. */
  retryable = true;
  private admitted: Admitted | null = null;
  private finished: Promise<Cost | undefined> | null = null;
  /** Ends the waitUntil that admission opened; called once the admission has settled. */
  private release: () => void = () => {};

  constructor(private readonly deps: MeterDeps) {}

  /** A completed answer is stored for a retry with the same idempotency key (its text is needed). */
  get replays(): boolean {
    return this.deps.idempotencyKey !== null;
  }

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
    const limit = (await this.stub().acquire(
      key.limits,
      a.promptTokens + a.maxTokens,
    )) as AcquireResult;
    this.limits = limit.snapshot;
    if (!limit.ok) {
      if (limit.reason === 'too_large') this.retryable = false;
      else this.retryAfterMs = limit.retryAfterMs;
      throw rateLimited(limit, a.promptTokens + a.maxTokens);
    }
    const startedAt = this.now();
    const price = this.deps.prices.priceAt(a.model, a.placement, new Date(startedAt));
    const reservedNanos = maxCost(a.promptTokens, a.maxTokens, price);
    const ledgerId = crypto.randomUUID();
    const outcome = await reserve(db, {
      ledgerId,
      requestId: this.deps.requestId,
      accountId: key.accountId,
      keyId: key.keyId,
      idempotencyKey,
      requestHash,
      endpoint: a.endpoint,
      model: a.model,
      servedBy: a.servedBy,
      price,
      reservedNanos,
      startedAt,
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
    // From here the request holds money: keep the isolate's request context alive until it settles,
    // or a client that disconnects would cancel the handler mid-decode and leave the row pending.
    this.deps.waitUntil(new Promise<void>((resolve) => (this.release = resolve)));
    return null;
  }

  /**
   * The request falls back to another model (its own could not answer): the current admission, if
   * any, settles as failed (nothing was delivered, so it is free), and the next `admit` admits the
   * request again at the fallback model's price, on a new ledger row. The meter stays the one the
   * metering middleware holds, so it still settles whatever admission is current on an error.
   */
  async fallBack(): Promise<void> {
    if (this.admitted)
      await this.finish({
        status: 'failed',
        promptTokens: 0,
        cachedTokens: 0,
        completionTokens: 0,
      });
    this.admitted = null;
    this.finished = null;
  }

  /** Settles once (later calls return the first call's cost); undefined when never admitted. */
  finish(o: Outcome): Promise<Cost | undefined> {
    if (!this.finished) {
      this.finished = this.settle(o).finally(() => this.release());
      this.deps.waitUntil(this.finished);
    }
    return this.finished;
  }

  private async settle(o: Outcome): Promise<Cost | undefined> {
    const admitted = this.admitted;
    if (!admitted) return undefined;
    // Nothing produced, nothing delivered: a request that failed or was abandoned before its
    // first token costs nothing. Otherwise the prompt and every produced token are billed.
    const counts: TokenCounts =
      o.status !== 'completed' && o.completionTokens === 0
        ? { promptTokens: 0, cachedTokens: 0, completionTokens: 0 }
        : o;
    const cost = costOf(counts, admitted.price);
    if (cost.total > admitted.reservedNanos) {
      // Cannot happen while maxCost bounds costOf; never charge past what was reserved.
      console.error(
        `request ${this.deps.requestId}: cost ${cost.total} exceeds reservation ${admitted.reservedNanos}`,
      );
      cost.total = admitted.reservedNanos;
    }
    const { db, key } = this.deps;
    const wire = toWireCost(cost, admitted.price);
    const replay =
      o.status === 'completed' && this.deps.idempotencyKey ? o.replay?.(wire) : undefined;
    const results = await Promise.allSettled([
      settle(db, admitted.ledgerId, key.accountId, {
        status: o.status,
        counts,
        cost,
        finishedAt: this.now(),
        replay,
        timing: o.timing,
      }),
      this.stub().release(admitted.leaseId, o.promptTokens + o.completionTokens),
    ]);
    for (const r of results) {
      // A pending row left behind is refunded whole by the sweeper; the request is not failed for it.
      if (r.status === 'rejected')
        console.error(`request ${this.deps.requestId}: settlement failed:`, r.reason);
    }
    return wire;
  }
}
