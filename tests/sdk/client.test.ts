// The client's transport with an injected fetch: URLs and headers, retries with backoff that
// honours the server's headers, timeouts, aborts, and errors mapped from status.
import { describe, expect, it, vi } from 'vitest';
import * as sdk from '../../sdk/index';
import { apiError, client, json, scriptedFetch } from './helpers';

const models = { object: 'list', data: [] };
const chatBody = { model: 'tiny', messages: [{ role: 'user' as const, content: 'hi' }] };

describe('requests', () => {
  it('sends the key, JSON and an idempotency key, to baseURL + path', async () => {
    const { fetch, calls } = scriptedFetch(json({ ok: 1 }));
    await client(fetch, {
      baseURL: 'http://api.test/v1/',
      defaultHeaders: { 'x-team': 'a' },
    }).chat.completions.create(chatBody, { headers: { 'x-extra': 'b' } });
    const [call] = calls;
    expect(call.url).toBe('http://api.test/v1/chat/completions');
    expect(call.init.method).toBe('POST');
    expect(call.headers.get('authorization')).toBe('Bearer sk-test');
    expect(call.headers.get('content-type')).toBe('application/json');
    expect(call.headers.get('idempotency-key')).toMatch(/^sdk-\S+/);
    expect(call.headers.get('x-team')).toBe('a');
    expect(call.headers.get('x-extra')).toBe('b');
    expect(call.body).toEqual(chatBody);
  });

  it('puts the balance at the API root and the usage query in the URL', async () => {
    const { fetch, calls } = scriptedFetch(json({ is_available: true, balance_infos: [] }));
    const c = client(fetch);
    await c.balance.retrieve();
    await c.usage.retrieve({ start_date: '2026-01-01', end_date: undefined });
    await c.models.retrieve('org/model');
    expect(calls.map((x) => x.url)).toEqual([
      'http://api.test/user/balance',
      'http://api.test/v1/usage?start_date=2026-01-01',
      'http://api.test/v1/models/org%2Fmodel',
    ]);
    expect(calls[0].init.method).toBe('GET');
    expect(calls[0].headers.get('idempotency-key')).toBeNull();
  });

  it('withResponse exposes the request id and where the request ran', async () => {
    const { fetch } = scriptedFetch(
      json(models, 200, { 'x-request-id': 'req-9', 'x-served-by': 'edge:tiny' }),
    );
    const { data, requestId, servedBy, response } = await client(fetch)
      .models.list()
      .withResponse();
    expect(data).toEqual(models);
    expect([requestId, servedBy, response.status]).toEqual(['req-9', 'edge:tiny', 200]);
  });

  it('asResponse gives the raw response with its body still readable', async () => {
    const { fetch } = scriptedFetch(json(models, 200, { 'x-served-by': 'edge:tiny' }));
    const response = await client(fetch).models.list().asResponse();
    expect(response.headers.get('x-served-by')).toBe('edge:tiny');
    expect(await response.json()).toEqual(models);
  });

  it('needs an API key', () => {
    expect(() => new sdk.EdgeInference({ apiKey: '', baseURL: 'http://x' })).toThrow(/API key/);
  });
});

describe('retries', () => {
  it('retries 5xx twice by default, with the same idempotency key, then throws', async () => {
    const { fetch, calls } = scriptedFetch(apiError(500, 'server_error'));
    const err = await client(fetch, { timeout: 5000 })
      .models.list({ maxRetries: undefined })
      .catch((e) => e);
    expect(calls).toHaveLength(3);
    expect(err).toBeInstanceOf(sdk.InternalServerError);
    const post = scriptedFetch(
      apiError(503, 'service_unavailable', null, { 'retry-after-ms': '1' }),
      json({ ok: 1 }),
    );
    await client(post.fetch).chat.completions.create(chatBody);
    expect(post.calls).toHaveLength(2);
    expect(post.calls[1].headers.get('idempotency-key')).toBe(
      post.calls[0].headers.get('idempotency-key'),
    );
  }, 10_000);

  it('waits as long as retry-after-ms / retry-after say, not its own backoff', async () => {
    const ms = scriptedFetch(
      apiError(429, 'rate_limit_error', null, { 'retry-after-ms': '40' }),
      json(models),
    );
    await client(ms.fetch).models.list();
    const waitedMs = ms.calls[1].at - ms.calls[0].at;
    expect(waitedMs).toBeGreaterThanOrEqual(39);
    expect(waitedMs).toBeLessThan(370); // the default first backoff is at least 375 ms

    const s = scriptedFetch(
      apiError(429, 'rate_limit_error', null, { 'retry-after': '0.05' }),
      json(models),
    );
    await client(s.fetch).models.list();
    const waitedS = s.calls[1].at - s.calls[0].at;
    expect(waitedS).toBeGreaterThanOrEqual(49);
    expect(waitedS).toBeLessThan(370);
  });

  it('backs off exponentially without a server hint', async () => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(0); // no jitter: exactly 0.5 s, then 1 s
    try {
      const { fetch, calls } = scriptedFetch(
        apiError(502, 'server_error'),
        apiError(502, 'server_error'),
        json(models),
      );
      await client(fetch).models.list();
      const first = calls[1].at - calls[0].at;
      const second = calls[2].at - calls[1].at;
      expect(first).toBeGreaterThanOrEqual(495);
      expect(first).toBeLessThan(900);
      expect(second).toBeGreaterThanOrEqual(995);
      expect(second).toBeLessThan(1400);
    } finally {
      random.mockRestore();
    }
  }, 10_000);

  it('does not retry 4xx, nor when told not to, nor past maxRetries', async () => {
    for (const reply of [
      apiError(400, 'invalid_request_error'),
      apiError(402, 'insufficient_balance'),
      apiError(503, 'server_error', null, { 'x-should-retry': 'false' }),
    ]) {
      const { fetch, calls } = scriptedFetch(reply);
      await expect(client(fetch).models.list()).rejects.toBeInstanceOf(sdk.APIError);
      expect(calls).toHaveLength(1);
    }
    const { fetch, calls } = scriptedFetch(apiError(500, 'server_error'));
    await expect(client(fetch, { maxRetries: 0 }).models.list()).rejects.toBeInstanceOf(
      sdk.InternalServerError,
    );
    expect(calls).toHaveLength(1);
  });

  it('retries connection errors and timeouts, then reports them as such', async () => {
    const down = scriptedFetch(new TypeError('fetch failed'), json(models));
    expect(await client(down.fetch).models.list()).toEqual(models);
    const dead = scriptedFetch(new TypeError('fetch failed'));
    const err = await client(dead.fetch, { maxRetries: 1 })
      .models.list()
      .catch((e) => e);
    expect(err).toBeInstanceOf(sdk.APIConnectionError);
    expect(err.cause).toBeInstanceOf(TypeError);
    expect(dead.calls).toHaveLength(2);

    const hang = (call: { init: RequestInit }) =>
      new Promise<Response>((_, reject) =>
        call.init.signal!.addEventListener('abort', () => reject(call.init.signal!.reason)),
      );
    const slow = scriptedFetch(hang);
    const timeout = await client(slow.fetch, { timeout: 20, maxRetries: 1 })
      .models.list()
      .catch((e) => e);
    expect(timeout).toBeInstanceOf(sdk.APIConnectionTimeoutError);
    expect(slow.calls).toHaveLength(2);
  }, 10_000);
});

describe('aborts', () => {
  it('a caller abort before the response is an APIUserAbortError, never retried', async () => {
    const hang = (call: { init: RequestInit }) =>
      new Promise<Response>((_, reject) =>
        call.init.signal!.addEventListener('abort', () =>
          reject(new DOMException('aborted', 'AbortError')),
        ),
      );
    const { fetch, calls } = scriptedFetch(hang);
    const controller = new AbortController();
    const pending = client(fetch).models.list({ signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    await expect(pending).rejects.toBeInstanceOf(sdk.APIUserAbortError);
    expect(calls).toHaveLength(1);
  });

  it('an abort during the backoff sleep stops at once', async () => {
    const { fetch, calls } = scriptedFetch(
      apiError(500, 'server_error', null, { 'retry-after': '30' }),
    );
    const controller = new AbortController();
    const started = performance.now();
    const pending = client(fetch).models.list({ signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toBeInstanceOf(sdk.APIUserAbortError);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(calls).toHaveLength(1);
  });
});

describe('errors mapped from status', () => {
  const cases: [number, string, unknown][] = [
    [400, 'invalid_request_error', sdk.BadRequestError],
    [401, 'authentication_error', sdk.AuthenticationError],
    [402, 'insufficient_balance', sdk.InsufficientBalanceError],
    [403, 'permission_error', sdk.PermissionDeniedError],
    [404, 'not_found_error', sdk.NotFoundError],
    [409, 'invalid_request_error', sdk.ConflictError],
    [422, 'invalid_request_error', sdk.UnprocessableEntityError],
    [429, 'rate_limit_error', sdk.RateLimitError],
    [500, 'server_error', sdk.InternalServerError],
    [503, 'service_unavailable', sdk.ServiceUnavailableError],
    [418, 'teapot', sdk.APIError],
  ];
  it.each(cases)(
    '%i becomes its class, with the body fields and the request id',
    async (status, type, Class) => {
      const { fetch } = scriptedFetch(
        json({ error: { message: 'nope', type, param: 'messages', code: 'some_code' } }, status, {
          'x-request-id': 'req-42',
        }),
      );
      const err = await client(fetch, { maxRetries: 0 })
        .chat.completions.create(chatBody)
        .catch((e) => e);
      expect(err).toBeInstanceOf(Class);
      expect(err).toBeInstanceOf(sdk.APIError);
      expect(err).toMatchObject({
        status,
        type,
        code: 'some_code',
        param: 'messages',
        requestId: 'req-42',
        message: `${status} nope`,
      });
    },
  );

  it('a body that is not JSON still gives the right class and its text', async () => {
    const { fetch } = scriptedFetch(new Response('upstream gateway exploded', { status: 502 }));
    const err = await client(fetch, { maxRetries: 0 })
      .models.list()
      .catch((e) => e);
    expect(err).toBeInstanceOf(sdk.InternalServerError);
    expect(err.message).toBe('502 upstream gateway exploded');
    expect(err.code).toBeUndefined();
  });
});
