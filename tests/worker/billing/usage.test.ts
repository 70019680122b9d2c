// GET /v1/usage sums the key's ledger by day and model; GET /user/balance has DeepSeek's shape.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Usage } from '../../../protocol/usage';
import { seedStories260k, sharedModelsPresent, skipReason } from '../seed';
import { chat, MODEL } from './requests';
import { call, provisionKey, type TestKey } from './setup';

const reason = skipReason(await sharedModelsPresent());

interface UsageReport {
  object: string;
  currency: string;
  start_date: string;
  end_date: string;
  data: {
    date: string;
    model: string;
    requests: number;
    prompt_tokens: number;
    completion_tokens: number;
    total_tokens: number;
    cost: { total: number; output: number };
  }[];
  totals: {
    requests: number;
    prompt_tokens: number;
    completion_tokens: number;
    prompt_cache_hit_tokens: number;
    prompt_cache_miss_tokens: number;
    total_tokens: number;
    cost: { total: number };
  };
}

describe.skipIf(reason !== null)('usage and balance', () => {
  let k: TestKey;
  const usages: Usage[] = [];

  beforeAll(async () => {
    await seedStories260k();
    k = await provisionKey({ balance: '2' });
    for (const max_tokens of [8, 16, 24])
      usages.push((await (await chat(k.key, { max_tokens })).json<{ usage: Usage }>()).usage);
  });

  it('reports today, per model, with totals equal to the responses', async () => {
    const res = await call('/v1/usage', { key: k.key });
    expect(res.status).toBe(200);
    const report = await res.json<UsageReport>();
    const today = new Date().toISOString().slice(0, 10);
    expect(report).toMatchObject({ object: 'usage', currency: 'USD', end_date: today });
    expect(report.data).toHaveLength(1);
    expect(report.data[0]).toMatchObject({ date: today, model: MODEL, requests: 3 });
    const sum = (f: (u: Usage) => number) => usages.reduce((a, u) => a + f(u), 0);
    expect(report.totals).toMatchObject({
      requests: 3,
      prompt_tokens: sum((u) => u.prompt_tokens),
      completion_tokens: sum((u) => u.completion_tokens),
      prompt_cache_hit_tokens: 0,
      prompt_cache_miss_tokens: sum((u) => u.prompt_tokens),
      cost: { total: sum((u) => u.cost!.total) },
    });
  });

  it('another key sees only its own usage', async () => {
    const other = await provisionKey();
    const report = await (await call('/v1/usage', { key: other.key })).json<UsageReport>();
    expect(report.data).toEqual([]);
    expect(report.totals.requests).toBe(0);
  });

  it('validates its date range', async () => {
    expect((await call('/v1/usage?start_date=2026-13-01', { key: k.key })).status).toBe(400);
    expect(
      (await call('/v1/usage?start_date=2026-02-01&end_date=2026-01-01', { key: k.key })).status,
    ).toBe(400);
    const past = await (
      await call('/v1/usage?start_date=2020-01-01&end_date=2020-01-31', { key: k.key })
    ).json<UsageReport>();
    expect(past.data).toEqual([]);
  });

  it('/user/balance is the balance less what was spent, in DeepSeek shape', async () => {
    const spent = usages.reduce((a, u) => a + u.cost!.total, 0);
    const body = await (
      await call('/user/balance', { key: k.key })
    ).json<{
      is_available: boolean;
      balance_infos: { total_balance: string; currency: string }[];
    }>();
    expect(body.is_available).toBe(true);
    const nanos = 2_000_000_000 - spent;
    expect(body.balance_infos[0].total_balance).toBe(
      `1.${String(nanos - 1_000_000_000)
        .padStart(9, '0')
        .replace(/0+$/, '')}`,
    );
  });
});
