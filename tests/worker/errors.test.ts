// Bad input gets a clear OpenAI-shaped 4xx, never a 500; every response carries x-request-id.
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { provisionKey } from './billing/setup';

const { key } = await provisionKey();
const authorization = `Bearer ${key}`;
const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  exports.default.fetch(
    new Request(`http://edge.test${path}`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', authorization, ...headers },
    }),
  );
const get = (path: string) =>
  exports.default.fetch(new Request(`http://edge.test${path}`, { headers: { authorization } }));

async function expectError(
  res: Response,
  status: number,
  code: string | null,
  param?: string | null,
) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/json');
  expect(res.headers.get('x-request-id')).toMatch(/\S+/);
  const body = (await res.json()) as {
    error: { message: string; type: string; param: string | null; code: string | null };
  };
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(body.error.message.length).toBeGreaterThan(5);
  expect(body.error.code).toBe(code);
  if (param !== undefined) expect(body.error.param).toBe(param);
  return body.error;
}

describe('request validation', () => {
  it('malformed JSON is a 400', async () => {
    await expectError(
      await post('/v1/chat/completions', '{"model": "x", '),
      400,
      'invalid_json',
      null,
    );
  });
  it('a non-object body is a 400', async () => {
    await expectError(await post('/v1/chat/completions', '[1,2]'), 400, 'invalid_json');
  });
  it('missing messages is a 400 naming the field', async () => {
    await expectError(
      await post('/v1/chat/completions', JSON.stringify({ model: 'm' })),
      400,
      'invalid_value',
      'messages',
    );
  });
  it('empty messages is a 400', async () => {
    await expectError(
      await post('/v1/chat/completions', JSON.stringify({ model: 'm', messages: [] })),
      400,
      'invalid_value',
      'messages',
    );
  });
  it('a bad role is a 400 naming the path', async () => {
    const body = JSON.stringify({ model: 'm', messages: [{ role: 'wizard', content: 'x' }] });
    await expectError(
      await post('/v1/chat/completions', body),
      400,
      'invalid_value',
      'messages.0.role',
    );
  });
  it('out-of-range sampling fields are 400s', async () => {
    const msg = [{ role: 'user', content: 'hi' }];
    for (const [field, value] of [
      ['temperature', 3],
      ['top_p', 1.5],
      ['max_tokens', 0],
      ['max_tokens', 1.5],
      ['n', 9],
      ['stop', [1]],
    ] as const) {
      const res = await post(
        '/v1/chat/completions',
        JSON.stringify({ model: 'm', messages: msg, [field]: value }),
      );
      const err = await expectError(res, 400, 'invalid_value');
      expect(err.param?.startsWith(field)).toBe(true);
    }
  });
  it('a missing prompt on /v1/completions is a 400', async () => {
    await expectError(
      await post('/v1/completions', JSON.stringify({ model: 'm' })),
      400,
      'invalid_value',
      'prompt',
    );
  });
  it('an unknown model is a 404 model_not_found', async () => {
    const res = await post(
      '/v1/chat/completions',
      JSON.stringify({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] }),
    );
    await expectError(res, 404, 'model_not_found', 'model');
    await expectError(await get('/v1/models/nope'), 404, 'model_not_found');
  });
  it('an unknown route is a 404 in the same shape', async () => {
    await expectError(await get('/v1/nothing-here'), 404, 'unknown_url');
  });
  it('echoes a caller-supplied x-request-id', async () => {
    const res = await post('/v1/chat/completions', '{', { 'x-request-id': 'req-abc-123' });
    expect(res.headers.get('x-request-id')).toBe('req-abc-123');
    await res.body?.cancel();
  });
});
