// Browsers may call the API, as they may call OpenAI's (openai-node's dangerouslyAllowBrowser, web
// chat UIs): a preflight is answered without a key, and every API answer (errors and streams too)
// lets any origin read it and the headers clients use. The admin API is left out.
import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { provisionKey } from './billing/setup';
import { seedStories260k, sharedModelsPresent, skipReason } from './seed';

const { key } = await provisionKey();
const ORIGIN = 'https://chat.example';
const fetchWorker = (path: string, init: RequestInit = {}) =>
  exports.default.fetch(
    new Request(`http://edge.test${path}`, {
      ...init,
      headers: { origin: ORIGIN, ...(init.headers as Record<string, string>) },
    }),
  );
const reason = skipReason(await sharedModelsPresent());

describe('CORS', () => {
  it('a preflight is answered at every base URL without a key, allowing what openai-node sends', async () => {
    for (const path of [
      '/v1/chat/completions',
      '/chat/completions',
      '/beta/completions',
      '/models',
      '/user/balance',
      '/anthropic/v1/messages',
    ]) {
      const res = await fetchWorker(path, {
        method: 'OPTIONS',
        headers: {
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type, x-stainless-os',
        },
      });
      expect(res.status, path).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-methods')).toContain('POST');
      expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
      expect(res.headers.get('access-control-allow-headers')).toContain('x-stainless-os');
    }
  });

  it('an OPTIONS that is no preflight is still a 405', async () => {
    const res = await fetchWorker('/v1/chat/completions', {
      method: 'OPTIONS',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('answers and errors can be read, with the headers clients use', async () => {
    const ok = await fetchWorker('/v1/models', { headers: { authorization: `Bearer ${key}` } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('*');
    const exposed = ok.headers.get('access-control-expose-headers')!.split(',');
    for (const h of ['x-request-id', 'retry-after', 'x-ratelimit-remaining-requests'])
      expect(exposed).toContain(h);
    const unauthorized = await fetchWorker('/chat/completions', { method: 'POST', body: '{}' });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('access-control-allow-origin')).toBe('*');
    const bad = await fetchWorker('/v1/chat/completions', {
      method: 'POST',
      body: '{"model":',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('access-control-allow-origin')).toBe('*');
  });

  it.skipIf(reason !== null)('a stream can be read', async () => {
    await seedStories260k();
    const res = await fetchWorker('/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'stories260k',
        messages: [{ role: 'user', content: 'Once upon a time' }],
        max_tokens: 3,
        stream: true,
      }),
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(await res.text()).toContain('data: [DONE]');
  });

  it('the admin API is not offered to browsers', async () => {
    const res = await fetchWorker('/admin/accounts', {
      method: 'OPTIONS',
      headers: { 'access-control-request-method': 'POST' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});
