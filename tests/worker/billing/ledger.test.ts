// The ledger in workerd: disconnect mid-stream bills only produced tokens; settlement happens at
// most once; a pending row left by a dead isolate is refunded whole by the sweep.
import {
  createExecutionContext,
  createScheduledController,
  waitOnExecutionContext,
} from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { costOf } from '../../../billing/cost';
import { reserve, settle } from '../../../billing/ledger';
import { LEASE_TTL_MS } from '../../../billing/rate-limit';
import { prices } from '../../../billing/prices';
import { seedStories260k, sharedModelsPresent, skipReason } from '../seed';
import { chat, MODEL, rowsOf, settledRow } from './requests';
import worker from '../../../worker/index';
import { adminCall, balanceNanos, migrate, provisionKey } from './setup';

const reason = skipReason(await sharedModelsPresent());
const price = () => prices.priceAt(MODEL, 'edge', new Date());

describe.skipIf(reason !== null)('disconnect mid-stream', () => {
  beforeAll(seedStories260k);

  it('bills the prompt and the tokens produced, not max_tokens, exactly once', async () => {
    const k = await provisionKey({ balance: '1' });
    const res = await chat(k.key, { max_tokens: 400, stream: true });
    const reader = res.body!.getReader();
    let received = 0;
    const decoder = new TextDecoder();
    while (received < 6) {
      const { value } = await reader.read();
      received += (decoder.decode(value).match(/"content":"[^"]/g) ?? []).length;
    }
    await reader.cancel();
    const [pending] = await rowsOf(k.keyId);
    const row = await settledRow(pending.id);
    expect(row.status).toBe('disconnected');
    expect(row.prompt_tokens).toBe(5);
    expect(row.completion_tokens).toBeGreaterThanOrEqual(received);
    expect(row.completion_tokens).toBeLessThan(400);
    const expected = costOf(
      { promptTokens: 5, cachedTokens: 0, completionTokens: row.completion_tokens },
      price(),
    ).total;
    expect(row.cost_nanos).toBe(expected);
    expect(await balanceNanos(k.accountId)).toBe(1_000_000_000 - expected);
    expect(await rowsOf(k.keyId)).toHaveLength(1);
  });
});

describe('settlement and the sweep', () => {
  beforeAll(migrate);

  const reservation = (accountId: string, keyId: string, startedAt: number) => ({
    ledgerId: crypto.randomUUID(),
    requestId: 'req-x',
    accountId,
    keyId,
    idempotencyKey: null,
    requestHash: null,
    endpoint: 'chat.completions',
    model: MODEL,
    servedBy: `edge:${MODEL}`,
    price: price(),
    reservedNanos: 1000,
    startedAt,
  });

  it('settles at most once, refunding reserved minus cost once', async () => {
    const k = await provisionKey({ balance: '0.000001' }); // 1000 nano
    const r = reservation(k.accountId, k.keyId, Date.now());
    expect(await reserve(env.DB, r)).toBe('reserved');
    expect(await balanceNanos(k.accountId)).toBe(0);
    expect(await reserve(env.DB, { ...r, ledgerId: crypto.randomUUID() })).toBe(
      'insufficient_balance',
    );
    const s = {
      status: 'completed' as const,
      counts: { promptTokens: 5, cachedTokens: 0, completionTokens: 3 },
      cost: { hit: 0, miss: 50, output: 60, total: 110 },
      finishedAt: Date.now(),
    };
    expect(await settle(env.DB, r.ledgerId, k.accountId, s)).toBe(true);
    expect(await settle(env.DB, r.ledgerId, k.accountId, s)).toBe(false);
    expect(
      await settle(env.DB, r.ledgerId, k.accountId, {
        ...s,
        status: 'failed',
        cost: { hit: 0, miss: 0, output: 0, total: 0 },
      }),
    ).toBe(false);
    expect(await balanceNanos(k.accountId)).toBe(890);
    expect(await rowsOf(k.keyId)).toHaveLength(1);
  });

  it('a cost above the reservation is refused by the database', async () => {
    const k = await provisionKey({ balance: '0.000001' });
    const r = reservation(k.accountId, k.keyId, Date.now());
    await reserve(env.DB, r);
    const s = {
      status: 'completed' as const,
      counts: { promptTokens: 1, cachedTokens: 0, completionTokens: 1 },
      cost: { hit: 0, miss: 0, output: 2000, total: 2000 },
      finishedAt: Date.now(),
    };
    await expect(settle(env.DB, r.ledgerId, k.accountId, s)).rejects.toThrow(/CHECK constraint/);
    expect(await balanceNanos(k.accountId)).toBe(0);
  });

  it('the admin sweep refunds reservations left pending past the lease lifetime', async () => {
    const k = await provisionKey({ balance: '0.000002' });
    const stale = reservation(k.accountId, k.keyId, Date.now() - LEASE_TTL_MS - 1000);
    const live = reservation(k.accountId, k.keyId, Date.now());
    await reserve(env.DB, stale);
    await reserve(env.DB, live);
    expect(await balanceNanos(k.accountId)).toBe(0);
    const res = await adminCall('/admin/ledger/sweep', { method: 'POST' });
    expect(await res.json()).toMatchObject({ settled: expect.any(Number) });
    expect(await balanceNanos(k.accountId)).toBe(1000);
    const rows = await rowsOf(k.keyId);
    expect(rows.find((r) => r.id === stale.ledgerId)).toMatchObject({
      status: 'failed',
      cost_nanos: 0,
    });
    expect(rows.find((r) => r.id === live.ledgerId)).toMatchObject({ status: 'pending' });
  });

  it('the cron trigger runs the same sweep', async () => {
    const k = await provisionKey({ balance: '0.000001' });
    const stale = reservation(k.accountId, k.keyId, Date.now() - LEASE_TTL_MS - 1000);
    await reserve(env.DB, stale);
    expect(await balanceNanos(k.accountId)).toBe(0);
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '*/10 * * * *' }), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await balanceNanos(k.accountId)).toBe(1000);
  });
});
