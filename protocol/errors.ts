// Wire errors: one error type, OpenAI's shape `{ error: { message, type, param, code } }`.
// Shared by routes/, origin/ and sdk/.

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'insufficient_balance'
  | 'rate_limit_error'
  | 'server_error'
  | 'service_unavailable';

export interface ErrorBody {
  error: { message: string; type: ErrorType; param: string | null; code: string | null };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: ErrorType,
    readonly code: string | null = null,
    readonly param: string | null = null,
    /** Seconds a client should wait before retrying (sent as `retry-after` on 429/503). */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toJSON(): ErrorBody {
    return {
      error: { message: this.message, type: this.type, param: this.param, code: this.code },
    };
  }
}

export const invalidRequest = (
  message: string,
  param: string | null = null,
  code: string | null = 'invalid_request',
) => new ApiError(400, message, 'invalid_request_error', code, param);

export const modelNotFound = (model: string) =>
  new ApiError(
    404,
    `The model '${model}' does not exist or you do not have access to it.`,
    'invalid_request_error',
    'model_not_found',
    'model',
  );

export const contextLengthExceeded = (limit: number, requested: number, param = 'messages') =>
  new ApiError(
    400,
    `This model's maximum context length is ${limit} tokens. However, you requested ${requested} tokens. Please reduce the length of the messages or max_tokens.`,
    'invalid_request_error',
    'context_length_exceeded',
    param,
  );

export const serverError = (message = 'The server had an error while processing your request.') =>
  new ApiError(500, message, 'server_error', 'internal_error');
