// Prepaid balances: a request is admitted only if its most possible cost fits the balance, and
// that cost is reserved at once, so a concurrent burst from many keys on one account can never
// spend more than the account holds.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxCost } from '../../../billing/cost';
import { createKey } from '../../../billing/keys';
import { prices } from '../../../billing/prices';
import type { Usage } from '../../../protocol/usage';
import { seedStories260k, sharedModelsPresent, skipReason } from '../seed';
import { chat, MODEL, rowsOf } from './requests';
import { balanceNanos, call, provisionKey } from './setup';

const reason = skipReason(await sharedModelsPresent());
const PROMPT_TOKENS = 5; // "Once upon a time" with BOS
const reservation = (maxTokens: number) =>
  maxCost(PROMPT_TOKENS, maxTokens, prices.priceAt(MODEL, 'edge', new Date()));
const nanosAsAmount = (n: number) => (n / 1e9).toFixed(9);

describe.skipIf(reason !== null)('balances', () => {
  beforeAll(seedStories260k);

  it('an empty balance gets 402 Insufficient Balance, and nothing is recorded', async () => {
    const k = await provisionKey({ balance: '0' });
    const res = await chat(k.key, { max_tokens: 10 });
    expect(res.status).toBe(402);
    const body = await res.json<{ error: { type: string; code: string; message: string } }>();
    expect(body.error).toMatchObject({
      type: 'insufficient_balance',
      code: 'insufficient_balance',
    });
    expect(body.error.message).toMatch(/^Insufficient Balance/);
    expect(await rowsOf(k.keyId)).toEqual([]);
    expect(await (await call('/user/balance', { key: k.key })).json()).toMatchObject({
      is_available: false,
    });
  });

  it("DeepSeek's GET /user/balance, also under /v1: exact amounts as strings", async () => {
    const k = await provisionKey({ balance: '12.5' });
    for (const path of ['/user/balance', '/v1/user/balance']) {
      const res = await call(path, { key: k.key });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        is_available: true,
        balance_infos: [
          {
            currency: prices.currency,
            total_balance: '12.50',
            granted_balance: '0.00',
            topped_up_balance: '12.50',
          },
        ],
      });
    }
    expect((await call('/v1/user/balance')).status).toBe(401);
  });

  it('is_available is false when what is left pays for no request at all', async () => {
    const k = await provisionKey({ balance: nanosAsAmount(1) });
    expect((await chat(k.key, { max_tokens: 1 })).status).toBe(402);
    const body = await (await call('/v1/user/balance', { key: k.key })).json();
    expect(body).toMatchObject({
      is_available: false,
      balance_infos: [{ total_balance: '0.000000001' }],
    });
  });

  it('admission needs the most the request could cost; a smaller max_tokens fits', async () => {
    const k = await provisionKey({ balance: nanosAsAmount(reservation(20)) });
    expect((await chat(k.key, { max_tokens: 21 })).status).toBe(402);
    const ok = await chat(k.key, { max_tokens: 20 });
    expect(ok.status).toBe(200);
    const { usage } = await ok.json<{ usage: Usage }>();
    expect(await balanceNanos(k.accountId)).toBe(reservation(20) - usage.cost!.total);
  });

  it('a concurrent burst from many keys on one account cannot overspend it', async () => {
    const perRequest = reservation(16);
    const start = perRequest * 3; // room for exactly three requests in flight at once
    const owner = await provisionKey({ balance: nanosAsAmount(start) });
    const keys = [owner.key];
    for (let i = 0; i < 5; i++) {
      keys.push(
        (
          await createKey(env.DB, {
            accountId: owner.accountId,
            limits: { rpm: 1000, tpm: 1_000_000, maxConcurrency: 50 },
          })
        ).key,
      );
    }
    const burst = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        chat(keys[i % keys.length], {
          max_tokens: 16,
          messages: [{ role: 'user', content: 'Once upon a time' }],
        }),
      ),
    );
    const ok = burst.filter((r) => r.status === 200);
    const refused = burst.filter((r) => r.status === 402);
    // The isolate's model bounds its sessions + queue: requests beyond it are shed (503 + retry-after, no charge)
    const shed = burst.filter((r) => r.status === 503);
    for (const r of shed) {
      expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
      expect((await r.json<{ error: { code: string } }>()).error.code).toBe('model_overloaded');
    }
    expect(ok.length + refused.length + shed.length).toBe(burst.length);
    expect(ok.length).toBeGreaterThanOrEqual(3);
    expect(refused.length).toBeGreaterThan(0);
    const costs = await Promise.all(
      ok.map(async (r) => (await r.json<{ usage: Usage }>()).usage.cost!.total),
    );
    await Promise.all(refused.map((r) => r.body?.cancel()));
    const spent = costs.reduce((a, b) => a + b, 0);
    const balance = await balanceNanos(owner.accountId);
    expect(spent).toBeLessThanOrEqual(start);
    expect(balance).toBe(start - spent);
    expect(balance).toBeGreaterThanOrEqual(0);
    const { results } = await env.DB.prepare(
      "SELECT COUNT(*) AS n, SUM(cost_nanos) AS total FROM ledger WHERE account_id = ? AND status = 'completed'",
    )
      .bind(owner.accountId)
      .all<{ n: number; total: number }>();
    expect(results[0]).toEqual({ n: ok.length, total: spent });
  });
});
