// A method a path does not serve is a 405 in the OpenAI error shape with `allow` and x-request-id
// (WebDAV's PROPFIND included); an unknown path stays a 404.
import { describe, expect, it } from 'vitest';
import { provisionKey } from '../billing/setup';
import { expectApiError, send } from './error-shape';

const { key } = await provisionKey();
const authorization = `Bearer ${key}`;

describe('methods', () => {
  const cases: [string, string, string][] = [
    ['PROPFIND', '/v1/chat/completions', 'POST'],
    ['PATCH', '/v1/chat/completions', 'POST'],
    ['GET', '/v1/chat/completions', 'POST'],
    ['DELETE', '/v1/completions', 'POST'],
    ['PUT', '/v1/models', 'GET'],
    ['MKCOL', '/health', 'GET'],
  ];
  for (const [method, path, allow] of cases)
    it(`${method} ${path} is a 405 allowing ${allow}`, async () => {
      const res = await send(path, { method, headers: { authorization } });
      expect(res.headers.get('allow')).toContain(allow);
      const e = await expectApiError(res, 405);
      expect(e).toMatchObject({ type: 'invalid_request_error', code: 'method_not_allowed' });
      expect(e.message).toContain(method);
    });

  it('an unknown path is still a 404', async () => {
    const res = await send('/v1/nowhere', { method: 'PROPFIND', headers: { authorization } });
    expect((await expectApiError(res, 404)).code).toBe('unknown_url');
  });
});
