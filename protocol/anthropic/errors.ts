// Errors in Anthropic's shape, `{"type":"error","error":{"type","message"},"request_id"}`: our one
// ApiError (protocol/errors.ts) is mapped by status onto Anthropic's error types; the status stays.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { toApiError } from '../error-response';
import { ApiError, type ErrorBody } from '../errors';
import type { AnthropicError, AnthropicErrorType } from './responses';

const TYPES: Record<number, AnthropicErrorType> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  503: 'overloaded_error',
  529: 'overloaded_error',
};

export function anthropicErrorType(status: number): AnthropicErrorType {
  return TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

export function anthropicErrorBody(err: ApiError, requestId?: string): AnthropicError {
  // Our param names the field, as Anthropic's messages do in their text.
  const message =
    err.param && !err.message.includes(err.param) ? `${err.param}: ${err.message}` : err.message;
  return {
    type: 'error',
    error: { type: anthropicErrorType(err.status), message },
    ...(requestId ? { request_id: requestId } : {}),
  };
}

/** An OpenAI-shaped error answer of our chat pipeline, back as the ApiError it was. */
export function apiErrorOf(status: number, body: unknown): ApiError {
  const e = (body as Partial<ErrorBody> | null)?.error;
  if (!e || typeof e.message !== 'string')
    return new ApiError(
      status,
      'The server had an error while processing your request.',
      'server_error',
    );
  // DeepSeek answers an unknown model on its Anthropic API with a 400.
  const remapped = e.code === 'model_not_found' ? 400 : status;
  return new ApiError(remapped, e.message, e.type, e.code, e.param);
}

/** The Anthropic sub-app's onError: every failure leaves in Anthropic's shape with its status. */
export function anthropicErrorResponse(c: Context, err: unknown): Response {
  const api = toApiError(err);
  if (!(err instanceof ApiError) && api.status >= 500)
    console.error(`request ${c.get('requestId') ?? '?'} failed:`, err);
  if (api.retryAfter !== undefined) c.header('retry-after', String(api.retryAfter));
  const id = c.get('requestId') as string | undefined;
  if (id) c.header('request-id', id);
  return c.json(anthropicErrorBody(api, id), api.status as ContentfulStatusCode);
}
