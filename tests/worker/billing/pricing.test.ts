// Every response reports its cost (body, last stream chunk, headers), and the ledger holds exactly
// what the responses reported: one row per request, and the balance lost the same sum.
import { beforeAll, describe, expect, it } from 'vitest';
import { costOf } from '../../../billing/cost';
import { prices } from '../../../billing/prices';
import type { Usage } from '../../../protocol/usage';
import { seedStories260k, sharedModelsPresent, skipReason } from '../seed';
import { chat, frames, MODEL, rowsOf } from './requests';
import { balanceNanos, call, provisionKey, type TestKey } from './setup';

const reason = skipReason(await sharedModelsPresent());

function expectPriced(usage: Usage) {
  const cost = usage.cost!;
  expect(cost).toMatchObject({ currency: 'USD', unit: 'nano' });
  for (const v of [cost.input_cache_hit, cost.input_cache_miss, cost.output, cost.total])
    expect(Number.isSafeInteger(v)).toBe(true);
  expect(cost.total).toBe(cost.input_cache_hit + cost.input_cache_miss + cost.output);
  const price = prices.priceAt(MODEL, 'edge', new Date());
  const expected = costOf(
    {
      promptTokens: usage.prompt_tokens,
      cachedTokens: usage.prompt_cache_hit_tokens,
      completionTokens: usage.completion_tokens,
    },
    price,
  );
  expect(cost.total).toBe(expected.total);
  expect(cost.total).toBeGreaterThan(0);
  return cost.total;
}

describe.skipIf(reason !== null)('costs in responses and the ledger', () => {
  let k: TestKey;
  const reported: number[] = [];
  const requestIds: string[] = [];

  beforeAll(async () => {
    await seedStories260k();
    k = await provisionKey({ balance: '1' });
  });

  it('a JSON chat completion carries usage and cost in its body and headers', async () => {
    const res = await chat(k.key, { max_tokens: 20 });
    expect(res.status).toBe(200);
    const body = await res.json<{ usage: Usage }>();
    const total = expectPriced(body.usage);
    expect(res.headers.get('x-cost-total-nanos')).toBe(String(total));
    expect(res.headers.get('x-cost-currency')).toBe('USD');
    expect(res.headers.get('x-cost-total')).toMatch(/^0\.0+\d+$/);
    expect(res.headers.get('x-ratelimit-limit-requests')).toBe('10000');
    expect(res.headers.get('x-ratelimit-remaining-tokens')).toMatch(/^\d+$/);
    reported.push(total);
    requestIds.push(res.headers.get('x-request-id')!);
  });

  it('a stream with include_usage carries the cost in its usage chunk', async () => {
    const res = await chat(k.key, {
      max_tokens: 30,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = await frames(res);
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    reported.push(expectPriced(last.usage!));
    expect(chunks.slice(0, -1).every((c) => !c.usage)).toBe(true);
    requestIds.push(res.headers.get('x-request-id')!);
  });

  it('a stream without include_usage still ends with its cost, on the finish chunk', async () => {
    const res = await chat(k.key, { max_tokens: 12, stream: true });
    const chunks = await frames(res);
    const last = chunks[chunks.length - 1];
    expect(last.choices[0].finish_reason).toBe('length');
    reported.push(expectPriced(last.usage!));
    requestIds.push(res.headers.get('x-request-id')!);
  });

  it('legacy completions are priced the same way', async () => {
    const res = await call('/v1/completions', {
      method: 'POST',
      key: k.key,
      body: JSON.stringify({
        model: MODEL,
        prompt: 'Lily wanted to',
        max_tokens: 16,
        temperature: 0,
      }),
    });
    const body = await res.json<{ usage: Usage }>();
    reported.push(expectPriced(body.usage));
    expect(res.headers.get('x-cost-total-nanos')).toBe(String(body.usage.cost!.total));
    requestIds.push(res.headers.get('x-request-id')!);
    const stream = await call('/v1/completions', {
      method: 'POST',
      key: k.key,
      body: JSON.stringify({
        model: MODEL,
        prompt: 'Lily wanted to',
        max_tokens: 16,
        temperature: 0,
        stream: true,
        stream_options: { include_usage: true },
      }),
    });
    const chunks = await frames(stream);
    reported.push(expectPriced(chunks[chunks.length - 1].usage!));
    requestIds.push(stream.headers.get('x-request-id')!);
  });

  it('the ledger holds one settled row per request, summing to what responses reported and the balance lost', async () => {
    const rows = await rowsOf(k.keyId);
    expect(rows.map((r) => r.request_id)).toEqual(requestIds);
    expect(
      rows.every(
        (r) => r.status === 'completed' && r.served_by === `edge:${MODEL}` && r.model === MODEL,
      ),
    ).toBe(true);
    expect(rows.map((r) => r.cost_nanos)).toEqual(reported);
    const sum = reported.reduce((a, b) => a + b, 0);
    expect(await balanceNanos(k.accountId)).toBe(1_000_000_000 - sum);
  });

  it('requests refused before admission (bad input, unknown model) leave no row and cost nothing', async () => {
    const before = await balanceNanos(k.accountId);
    expect((await chat(k.key, { temperature: 9 })).status).toBe(400);
    expect((await chat(k.key, { model: 'nope' })).status).toBe(404);
    expect(await balanceNanos(k.accountId)).toBe(before);
    expect((await rowsOf(k.keyId)).length).toBe(requestIds.length);
  });
});
