// How an origin's failures reach the client: one error type for everything upstream, the mapping
// of an origin's error statuses (overload and outages may go to the next origin; a bad request may
// not), and the timer every wait on an origin goes through.
import { ApiError } from '../protocol/errors';
import type { HealthBoard } from './health';
import { originName, type OriginConfig } from './registry';

/** An upstream failure; the last attempt's is what the client is told when no origin (and no fallback) answers. */
export class UpstreamError extends ApiError {
  constructor(
    status: number,
    message: string,
    code: string,
    retryAfter?: number,
    readonly clientError = false,
  ) {
    super(
      status,
      message,
      status === 503
        ? 'service_unavailable'
        : status < 500
          ? 'invalid_request_error'
          : 'server_error',
      code,
      null,
      retryAfter,
    );
  }
}

/** A wait on an origin ran out. */
export class Timeout extends Error {}
/** Neither response headers nor a health answer within the connect timeout. */
export class Unreachable extends Error {}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout()), Math.max(0, ms));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Maps an origin's error status: overload and outages may go to the next origin; a bad request may not. */
export async function statusError(
  origin: OriginConfig,
  res: Response,
  health: HealthBoard,
): Promise<UpstreamError> {
  // An error body is small; one that does not arrive promptly is not waited for.
  const text = await withTimeout(res.text(), 2_000).catch(() => '');
  const detail = errorMessageOf(text) ?? `HTTP ${res.status}`;
  const name = originName(origin);
  const retryAfter = retryAfterSeconds(res.headers);
  if (res.status === 429 || res.status === 503 || res.status === 408) {
    health.onOverloaded(origin.url, (retryAfter ?? 1) * 1000);
    return new UpstreamError(
      503,
      `Origin ${name} is overloaded: ${detail}`,
      'origin_overloaded',
      retryAfter ?? 1,
    );
  }
  if (res.status === 400 || res.status === 413 || res.status === 422) {
    return new UpstreamError(400, detail, 'invalid_request', undefined, true);
  }
  // 401/403/404: the registry's credential or model name is wrong for this origin; 5xx: it is failing.
  health.onFailure(origin.url, 'server');
  return new UpstreamError(
    502,
    `Origin ${name} answered ${res.status}: ${detail}`,
    'bad_gateway',
    1,
  );
}

function errorMessageOf(text: string): string | null {
  try {
    const body = JSON.parse(text) as {
      error?: { message?: string } | string;
      message?: string;
      detail?: string;
    };
    const message =
      typeof body.error === 'string'
        ? body.error
        : (body.error?.message ?? body.message ?? body.detail);
    return typeof message === 'string' ? message : null;
  } catch {
    return text ? text.slice(0, 500) : null;
  }
}

function retryAfterSeconds(headers: Headers): number | undefined {
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.get('retry-after-ms') && Number.isFinite(ms))
    return Math.max(1, Math.ceil(ms / 1000));
  const s = Number(headers.get('retry-after'));
  return headers.get('retry-after') && Number.isFinite(s) ? Math.max(1, Math.ceil(s)) : undefined;
}
