// A request that can never fit the key's tokens-per-minute limit is a 400 `request_too_large`
// (param max_tokens, `x-should-retry: false`, the limit and the requested tokens in the message),
// not a 429: our SDK and the official `openai` client, both allowed retries, send it exactly once.
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import EdgeInference, { BadRequestError } from '../../../sdk/index';
import { provisionKey, type TestKey } from '../billing/setup';
import { BASE_URL, MODEL, reason, workerFetch } from '../compat/setup';
import { seedStories260k } from '../seed';
import { expectApiError } from './error-shape';

const TPM = 100;
const MAX_TOKENS = 500;
const messages = [{ role: 'user' as const, content: 'Once upon a time' }];

/** The Worker's fetch, counting the requests a client sends. */
function counted() {
  const calls: number[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const res = await workerFetch(input, init);
    calls.push(res.status);
    return res;
  };
  return { calls, fetch };
}

describe.skipIf(reason !== null)('a request larger than the TPM limit', () => {
  let k: TestKey;
  beforeAll(async () => {
    await seedStories260k();
    k = await provisionKey({ limits: { tpm: TPM } });
  });

  it('is a 400 request_too_large naming the limit, with x-should-retry: false and no retry-after', async () => {
    const res = await workerFetch(`${BASE_URL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${k.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages, max_tokens: MAX_TOKENS }),
    });
    expect(res.headers.get('x-should-retry')).toBe('false');
    expect(res.headers.get('retry-after')).toBeNull();
    expect(res.headers.get('retry-after-ms')).toBeNull();
    const e = await expectApiError(res, 400);
    expect(e).toMatchObject({
      type: 'invalid_request_error',
      code: 'request_too_large',
      param: 'max_tokens',
    });
    expect(e.message).toContain(`Limit ${TPM}`);
    expect(e.message).toMatch(new RegExp(`Requested ${MAX_TOKENS + 5}\\b`));
  });

  it('our SDK does not retry it', async () => {
    const { calls, fetch } = counted();
    const client = new EdgeInference({ baseURL: BASE_URL, apiKey: k.key, fetch, maxRetries: 3 });
    const err = await client.chat.completions
      .create({ model: MODEL, messages, max_tokens: MAX_TOKENS })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(calls).toEqual([400]);
  });

  it('the official openai client does not retry it', async () => {
    const { calls, fetch } = counted();
    const client = new OpenAI({ baseURL: BASE_URL, apiKey: k.key, fetch, maxRetries: 3 });
    const err = await client.chat.completions
      .create({ model: MODEL, messages, max_tokens: MAX_TOKENS })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('request_too_large');
    expect(calls).toEqual([400]);
  });
});
