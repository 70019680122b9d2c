// Why a request is refused before it runs, in the API's error shape: 402 (balance), 409/422
// (idempotency key in use or reused), 429 (limits, with retry-after), 400 (larger than a limit allows
// at all: not retryable).
import { ApiError } from '../protocol/errors';
import { formatAmount } from './money';
import type { AcquireResult } from './rate-limit';

export function replayOf(
  prior: { status: string; request_hash: string | null; replay: string | null },
  requestHash: string | null,
): string {
  if (prior.request_hash !== requestHash) {
    throw new ApiError(
      422,
      'This idempotency key was already used with a different request body.',
      'invalid_request_error',
      'idempotency_key_reused',
      'idempotency-key',
    );
  }
  if (prior.status === 'pending' || !prior.replay) throw idempotencyInUse();
  return prior.replay;
}

export const idempotencyInUse = () =>
  new ApiError(
    409,
    'A request with this idempotency key is still in progress; retry after it finishes.',
    'invalid_request_error',
    'idempotency_key_in_use',
    'idempotency-key',
    1,
  );

export const insufficientBalance = (reservedNanos: number, currency: string) =>
  new ApiError(
    402,
    `Insufficient Balance: this request may cost up to ${formatAmount(reservedNanos)} ${currency}, more than your balance. Top up your balance, or lower max_tokens.`,
    'insufficient_balance',
    'insufficient_balance',
  );

/**
 * A request that could never fit the key's tokens-per-minute limit, however long it waited: not a
 * rate limit (a 429 invites a retry) but a 400 that names the limit, sent with `x-should-retry:
 * false` (NOT_RETRYABLE) so that no client retries it (docs/errors.md).
 */
export const requestTooLarge = (limitTokens: number, tokens: number) =>
  new ApiError(
    400,
    `Request too large for tokens per min (TPM): Limit ${limitTokens}, Requested ${tokens} (prompt + max_tokens × n). This request can never fit; lower max_tokens or the prompt, or ask for a higher limit.`,
    'invalid_request_error',
    'request_too_large',
    'max_tokens',
  );

/** Headers of a refusal that retrying cannot change (openai-node and our SDK honour x-should-retry). */
export const NOT_RETRYABLE = { 'x-should-retry': 'false' } as const;

export function rateLimited(
  limit: Extract<AcquireResult, { ok: false }>,
  tokens: number,
): ApiError {
  const s = limit.snapshot;
  const retryAfter = Math.max(1, Math.ceil(limit.retryAfterMs / 1000));
  const wait = `Please try again in ${(limit.retryAfterMs / 1000).toFixed(3)}s.`;
  switch (limit.reason) {
    case 'too_large':
      return requestTooLarge(s.limitTokens, tokens);
    case 'concurrency':
      return new ApiError(
        429,
        'Too many requests in flight for this key; wait for one to finish.',
        'rate_limit_error',
        'concurrency_limit_exceeded',
        null,
        retryAfter,
      );
    case 'requests':
      return new ApiError(
        429,
        `Rate limit reached for requests per min (RPM): Limit ${s.limitRequests}, Remaining ${s.remainingRequests}. ${wait}`,
        'rate_limit_error',
        'rate_limit_exceeded',
        null,
        retryAfter,
      );
    case 'tokens':
      return new ApiError(
        429,
        `Rate limit reached for tokens per min (TPM): Limit ${s.limitTokens}, Remaining ${s.remainingTokens}, Requested ${tokens}. ${wait}`,
        'rate_limit_error',
        'rate_limit_exceeded',
        null,
        retryAfter,
      );
  }
}
