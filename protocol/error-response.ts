// The one onError of both Hono apps (the Worker's routes and the origin's server): every failure
// leaves as an OpenAI-shaped body with the right status; `toApiError` also shapes a mid-stream error frame.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { HTTPException } from 'hono/http-exception';
import { ApiError, serverError } from './errors';

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) {
    const type =
      err.status === 413
        ? 'invalid_request_error'
        : err.status >= 500
          ? 'server_error'
          : 'invalid_request_error';
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
  // c.json keeps the headers middleware already set (x-request-id, rate-limit headers).
  if (api.retryAfter !== undefined) c.header('retry-after', String(api.retryAfter));
  return c.json(api.toJSON(), api.status as ContentfulStatusCode);
}
