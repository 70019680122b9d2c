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
    param: string | null = null,
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
      param,
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
  const said = errorOf(text);
  const detail = said.message ?? `HTTP ${res.status}`;
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
    // The origin's own code and param (context_length_exceeded, max_tokens) reach the client.
    return new UpstreamError(
      400,
      detail,
      said.code ?? 'invalid_request',
      undefined,
      true,
      said.param,
    );
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

interface SaidError {
  message: string | null;
  /** A string code only: vLLM and SGLang put the HTTP status there as a number. */
  code: string | null;
  param: string | null;
}

/** What an error body says: OpenAI's `{"error":{…}}`, vLLM's and SGLang's flat `{"object":"error",…}`, FastAPI's `detail`. */
function errorOf(text: string): SaidError {
  const str = (v: unknown) => (typeof v === 'string' && v ? v : null);
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    if (typeof body.error === 'string') return { message: body.error, code: null, param: null };
    const e = (body.error && typeof body.error === 'object' ? body.error : body) as Record<
      string,
      unknown
    >;
    const message = str(e.message) ?? str(body.message) ?? str(body.detail);
    return { message, code: str(e.code) ?? codeOf(message), param: str(e.param) };
  } catch {
    return { message: text ? text.slice(0, 500) : null, code: null, param: null };
  }
}

/** vLLM and SGLang say a prompt is too long only in words; clients check OpenAI's code. */
const codeOf = (message: string | null): string | null =>
  message && /maximum context length|longer than the model's context length/i.test(message)
    ? 'context_length_exceeded'
    : null;

function retryAfterSeconds(headers: Headers): number | undefined {
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.get('retry-after-ms') && Number.isFinite(ms))
    return Math.max(1, Math.ceil(ms / 1000));
  const s = Number(headers.get('retry-after'));
  return headers.get('retry-after') && Number.isFinite(s) ? Math.max(1, Math.ceil(s)) : undefined;
}
