// Errors raised by the SDK, mapped from HTTP status the way openai-node maps them, each carrying the
// server's error fields and the request id (send it to us when you report a problem).
import type { ErrorBody } from '../../protocol/errors';

/** The `error` object of a body or stream frame; `type` is kept open for types newer than this SDK. */
export type WireError = Partial<Omit<ErrorBody['error'], 'type'>> & { type?: string };

export class EdgeInferenceError extends Error {
  override name = 'EdgeInferenceError';
}

export class APIError extends EdgeInferenceError {
  override name = 'APIError';
  /** HTTP status; undefined for an error frame inside a stream or a failed connection. */
  readonly status: number | undefined;
  readonly headers: Headers | undefined;
  /** The `error` object of the body, when there was one. */
  readonly error: WireError | undefined;
  readonly type: string | undefined;
  readonly code: string | null | undefined;
  readonly param: string | null | undefined;
  readonly requestId: string | null | undefined;

  constructor(
    status: number | undefined,
    error: WireError | undefined,
    message: string | undefined,
    headers: Headers | undefined,
  ) {
    super(APIError.makeMessage(status, error, message));
    this.status = status;
    this.headers = headers;
    this.error = error;
    this.type = error?.type;
    this.code = error?.code;
    this.param = error?.param;
    this.requestId = headers?.get('x-request-id');
  }

  private static makeMessage(
    status: number | undefined,
    error: WireError | undefined,
    message: string | undefined,
  ): string {
    const text = error?.message ?? message ?? (error ? JSON.stringify(error) : undefined);
    if (status && text) return `${status} ${text}`;
    if (status) return `${status} status code (no body)`;
    return text ?? '(no status code or body)';
  }

  /** The error for a non-2xx response; `body` is its parsed JSON, if it had any. */
  static generate(
    status: number,
    body: unknown,
    message: string | undefined,
    headers: Headers,
  ): APIError {
    const error = (body as Partial<ErrorBody> | undefined)?.error;
    const Class = STATUS_CLASSES[status] ?? (status >= 500 ? InternalServerError : APIError);
    return new Class(status, error, message, headers);
  }
}

type ErrorClass = new (
  status: number,
  error: WireError | undefined,
  message: string | undefined,
  headers: Headers,
) => APIError;

export class BadRequestError extends APIError {
  override name = 'BadRequestError';
}
export class AuthenticationError extends APIError {
  override name = 'AuthenticationError';
}
/** 402: the account's balance cannot pay for the request (DeepSeek's meaning). */
export class InsufficientBalanceError extends APIError {
  override name = 'InsufficientBalanceError';
}
export class PermissionDeniedError extends APIError {
  override name = 'PermissionDeniedError';
}
export class NotFoundError extends APIError {
  override name = 'NotFoundError';
}
export class ConflictError extends APIError {
  override name = 'ConflictError';
}
export class UnprocessableEntityError extends APIError {
  override name = 'UnprocessableEntityError';
}
export class RateLimitError extends APIError {
  override name = 'RateLimitError';
}
export class InternalServerError extends APIError {
  override name = 'InternalServerError';
}
/** 503: no origin and no edge fallback could serve the model right now. */
export class ServiceUnavailableError extends InternalServerError {
  override name = 'ServiceUnavailableError';
}

const STATUS_CLASSES: Record<number, ErrorClass> = {
  400: BadRequestError,
  401: AuthenticationError,
  402: InsufficientBalanceError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  422: UnprocessableEntityError,
  429: RateLimitError,
  503: ServiceUnavailableError,
};

/** The request never got a response (DNS, TLS, reset…). Retried. */
export class APIConnectionError extends APIError {
  override name = 'APIConnectionError';
  constructor(message = 'Connection error.', cause?: unknown) {
    super(undefined, undefined, message, undefined);
    if (cause !== undefined) (this as { cause?: unknown }).cause = cause;
  }
}

/** No response within `timeout`. Retried. */
export class APIConnectionTimeoutError extends APIConnectionError {
  override name = 'APIConnectionTimeoutError';
  constructor(message = 'Request timed out.') {
    super(message);
  }
}

/** The caller aborted (its `signal`, or `stream.abort()`). Never retried. */
export class APIUserAbortError extends APIError {
  override name = 'APIUserAbortError';
  constructor(message = 'Request was aborted.') {
    super(undefined, undefined, message, undefined);
  }
}
