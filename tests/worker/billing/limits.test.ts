// Per-key limits in the RateLimiter Durable Object: requests/min, tokens/min and concurrency,
// refused with 429, retry-after and OpenAI's x-ratelimit-* headers; exact under a burst.
import { beforeAll, describe, expect, it } from 'vitest';
import { seedStories260k, sharedModelsPresent, skipReason } from '../seed';
import { chat } from './requests';
import { provisionKey } from './setup';

const reason = skipReason(await sharedModelsPresent());

async function expect429(res: Response, code: string) {
  expect(res.status).toBe(429);
  const body = await res.json<{ error: { type: string; code: string } }>();
  expect(body.error).toMatchObject({ type: 'rate_limit_error', code });
  return res.headers;
}

describe.skipIf(reason !== null)('rate limits', () => {
  beforeAll(seedStories260k);

  it('requests per minute: 429 with retry-after and x-ratelimit-*-requests', async () => {
    const k = await provisionKey({ limits: { rpm: 2 } });
    const first = await chat(k.key, { max_tokens: 4 });
    expect(first.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    expect(first.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(\.\d+)?s$/);
    expect((await chat(k.key, { max_tokens: 4 })).status).toBe(200);
    const h = await expect429(await chat(k.key, { max_tokens: 4 }), 'rate_limit_exceeded');
    expect(Number(h.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(h.get('retry-after-ms'))).toBeGreaterThan(0);
    expect(h.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(h.get('x-ratelimit-limit-tokens')).toBeTruthy();
    expect(h.get('x-request-id')).toMatch(/\S+/);
  });

  it('tokens per minute count prompt + max_tokens; too large for a minute is refused outright', async () => {
    const k = await provisionKey({ limits: { tpm: 100 } });
    const tooLarge = await chat(k.key, { max_tokens: 200 });
    expect(tooLarge.status).toBe(400);
    expect(tooLarge.headers.get('x-should-retry')).toBe('false');
    expect(tooLarge.headers.get('retry-after')).toBeNull();
    expect((await tooLarge.json<{ error: object }>()).error).toMatchObject({
      code: 'request_too_large',
      param: 'max_tokens',
    });
    const ok = await chat(k.key, { max_tokens: 60 });
    expect(ok.status).toBe(200);
    expect(Number(ok.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThanOrEqual(35);
    const h = await expect429(await chat(k.key, { max_tokens: 60 }), 'rate_limit_exceeded');
    expect(h.get('x-ratelimit-reset-tokens')).toMatch(/s$/);
    expect(Number(h.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('concurrency: a second request while one streams is refused, then admitted once it ends', async () => {
    const k = await provisionKey({ limits: { maxConcurrency: 1 } });
    const streaming = await chat(k.key, { max_tokens: 200, stream: true });
    expect(streaming.status).toBe(200);
    const reader = streaming.body!.getReader();
    await reader.read();
    await expect429(await chat(k.key, { max_tokens: 4 }), 'concurrency_limit_exceeded');
    while (!(await reader.read()).done);
    expect((await chat(k.key, { max_tokens: 4 })).status).toBe(200);
  });

  it('is exact under a concurrent burst: rpm 3 admits exactly 3 of 12', async () => {
    // (At most 4 generations run at once here: the engine's session pool holds 4 per model.)
    const k = await provisionKey({ limits: { rpm: 3 } });
    const burst = await Promise.all(
      Array.from({ length: 12 }, () => chat(k.key, { max_tokens: 4 })),
    );
    const statuses = burst.map((r) => r.status);
    await Promise.all(burst.map((r) => r.body?.cancel()));
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(9);
  });
});
