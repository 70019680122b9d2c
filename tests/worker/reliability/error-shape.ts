// Shared by the reliability tests: requests to the real Worker, and the OpenAI error shape every
// 4xx must have (with its x-request-id).
import { exports } from 'cloudflare:workers';
import { expect } from 'vitest';

export const send = (
  path: string,
  init: { method?: string; body?: BodyInit | null; headers?: Record<string, string> } = {},
) =>
  exports.default.fetch(
    new Request(`http://edge.test${path}`, {
      method: init.method ?? 'POST',
      body: init.body ?? null,
      headers: init.headers,
    }),
  );

export interface WireError {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** Asserts OpenAI's error shape, the status and the request id; returns the error. */
export async function expectApiError(res: Response, status: number): Promise<WireError> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/json');
  expect(res.headers.get('x-request-id')).toMatch(/\S+/);
  const body = (await res.json()) as { error: WireError };
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(typeof body.error.message).toBe('string');
  return body.error;
}
