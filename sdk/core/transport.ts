// One logical request on the wire: attempts with a per-attempt timeout, retried after connection
// errors, timeouts and retryable statuses (core/retry.ts) with the same idempotency key, until one
// answers, the retries run out, or the caller aborts.
import type { RawResponse } from './api-promise';
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from './errors';
import { retryDelayMs, shouldRetry, sleep } from './retry';

export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface RequestOptions {
  signal?: AbortSignal;
  timeout?: number;
  maxRetries?: number;
  headers?: Record<string, string>;
  /** Sent as `idempotency-key`; one is made per call so that its retries are not billed twice. */
  idempotencyKey?: string;
}

export interface FinalRequest {
  method: 'GET' | 'POST';
  /** Relative to `baseURL`, e.g. `/chat/completions`. */
  path: string;
  /** The path is relative to the API root, beside `/v1` (DeepSeek's `/user/balance`). */
  root?: boolean;
  body?: unknown;
  query?: Record<string, string | number | boolean | null | undefined>;
  stream?: boolean;
}

export interface TransportConfig {
  apiKey: string;
  baseURL: string;
  timeout: number;
  maxRetries: number;
  fetch: Fetch;
  defaultHeaders: Record<string, string>;
}

export async function send(
  config: TransportConfig,
  req: FinalRequest,
  options: RequestOptions,
): Promise<RawResponse> {
  const maxRetries = options.maxRetries ?? config.maxRetries;
  const init = buildInit(config, req, options);
  const url = buildURL(config, req);
  for (let attempt = 0; ; attempt++) {
    const outcome = await attemptOnce(config, url, init, req.stream === true, options);
    if ('raw' in outcome) return outcome.raw;
    if (attempt >= maxRetries || !outcome.retryable) throw outcome.error;
    await sleep(retryDelayMs(attempt + 1, outcome.headers), options.signal).catch(() => {
      throw new APIUserAbortError();
    });
  }
}

/** One HTTP attempt. Errors come back as values so that `send` can decide to retry. */
async function attemptOnce(
  config: TransportConfig,
  url: string,
  init: RequestInit,
  stream: boolean,
  options: RequestOptions,
): Promise<{ raw: RawResponse } | { error: APIError; retryable: boolean; headers?: Headers }> {
  const { signal } = options;
  if (signal?.aborted) throw new APIUserAbortError();
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new APIConnectionTimeoutError());
  }, options.timeout ?? config.timeout);
  try {
    const response = await config.fetch(url, { ...init, signal: controller.signal });
    if (!response.ok) {
      const retryable = shouldRetry(response);
      const error = await errorFrom(response);
      return { error, retryable, headers: response.headers };
    }
    // A stream's body outlives this attempt: the caller's signal stays linked until it ends.
    if (stream) return { raw: { response, controller } };
    return { raw: { response, controller, text: await response.text() } };
  } catch (err) {
    if (signal?.aborted) throw new APIUserAbortError();
    if (timedOut) return { error: new APIConnectionTimeoutError(), retryable: true };
    return { error: new APIConnectionError(undefined, err), retryable: true };
  } finally {
    clearTimeout(timer);
    if (!stream) signal?.removeEventListener('abort', onAbort);
  }
}

function buildURL(config: TransportConfig, req: FinalRequest): string {
  const base = req.root ? config.baseURL.replace(/\/v1$/, '') : config.baseURL;
  const query = Object.entries(req.query ?? {}).filter(([, v]) => v !== undefined && v !== null);
  const qs = query.length ? `?${new URLSearchParams(query.map(([k, v]) => [k, String(v)]))}` : '';
  return `${base}${req.path}${qs}`;
}

function buildInit(
  config: TransportConfig,
  req: FinalRequest,
  options: RequestOptions,
): RequestInit {
  const headers: Record<string, string> = {
    accept: req.stream ? 'text/event-stream' : 'application/json',
    authorization: `Bearer ${config.apiKey}`,
    ...config.defaultHeaders,
  };
  if (req.body !== undefined) headers['content-type'] = 'application/json';
  if (req.method === 'POST')
    headers['idempotency-key'] = options.idempotencyKey ?? newIdempotencyKey();
  Object.assign(headers, options.headers);
  return {
    method: req.method,
    headers,
    body: req.body === undefined ? undefined : JSON.stringify(req.body),
  };
}

async function errorFrom(response: Response): Promise<APIError> {
  const text = await response.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return APIError.generate(response.status, body, text || undefined, response.headers);
}

export function parseJSON(raw: RawResponse): unknown {
  try {
    return JSON.parse(raw.text ?? '');
  } catch {
    throw new APIError(
      raw.response.status,
      undefined,
      `Could not parse the response as JSON: ${(raw.text ?? '').slice(0, 200)}`,
      raw.response.headers,
    );
  }
}

function newIdempotencyKey(): string {
  const uuid = globalThis.crypto?.randomUUID?.();
  return `sdk-${uuid ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`}`;
}
