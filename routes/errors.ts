// The one onError and notFound: every failure leaves as an OpenAI-shaped body with the right status.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ApiError, serverError } from '../protocol/errors';

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) {
    const type = err.status === 413 ? 'invalid_request_error' : err.status >= 500 ? 'server_error' : 'invalid_request_error';
    const code = err.status === 413 ? 'request_too_large' : null;
    return new ApiError(err.status, err.message || 'Request failed.', type, code);
  }
  return serverError();
}

export function errorResponse(c: Context, err: unknown): Response {
  const api = toApiError(err);
  if (!(err instanceof ApiError) && !(err instanceof HTTPException)) {
    console.error(`request ${c.get('requestId') ?? '?'} failed:`, err);
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (api.retryAfter !== undefined) headers['retry-after'] = String(api.retryAfter);
  return new Response(JSON.stringify(api.toJSON()), { status: api.status, headers });
}
