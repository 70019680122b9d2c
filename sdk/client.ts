// The client: base URL, key, timeouts, retries, an injectable `fetch`, and one resource object per
// endpoint. Web APIs only (fetch, AbortController, TextDecoder), so it runs in Node 18+, Workers,
// Deno and browsers.
import { APIPromise, type RawResponse } from './core/api-promise';
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, EdgeInferenceError } from './core/errors';
import { retryDelayMs, shouldRetry, sleep } from './core/retry';
import { Stream } from './core/stream';
import { Balance } from './resources/balance';
import { Chat } from './resources/chat';
import { Completions } from './resources/completions';
import { Models } from './resources/models';
import { UsageResource } from './resources/usage';

export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** Sent as `Authorization: Bearer …`. Defaults to the EDGE_INFERENCE_API_KEY environment variable where there is one. */
  apiKey?: string;
  /** The API root, `/v1` included. Defaults to EDGE_INFERENCE_BASE_URL, else the local `npm start` Worker. */
  baseURL?: string;
  /** Milliseconds one attempt may take (for a stream: until its headers arrive). Default 10 minutes. */
  timeout?: number;
  /** Retries after a connection error, a timeout, 408, 409, 429 or 5xx. Default 2. */
  maxRetries?: number;
  /** A fetch to use instead of the global one (a service binding's, a mock, a proxy). */
  fetch?: Fetch;
  defaultHeaders?: Record<string, string>;
}

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

const DEFAULT_BASE_URL = 'http://127.0.0.1:8787/v1';
const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;

/** Reads an environment variable where there is a `process` (Node, Bun); never fails elsewhere. */
const readEnv = (name: string): string | undefined =>
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name]?.trim() || undefined;

export class EdgeInference {
  readonly apiKey: string;
  readonly baseURL: string;
  readonly timeout: number;
  readonly maxRetries: number;
  private readonly fetch: Fetch;
  private readonly defaultHeaders: Record<string, string>;

  readonly chat = new Chat(this);
  readonly completions = new Completions(this);
  readonly models = new Models(this);
  readonly usage = new UsageResource(this);
  readonly balance = new Balance(this);

  constructor(options: ClientOptions = {}) {
    const apiKey = options.apiKey ?? readEnv('EDGE_INFERENCE_API_KEY');
    if (!apiKey) throw new EdgeInferenceError('No API key: pass `apiKey` or set EDGE_INFERENCE_API_KEY.');
    this.apiKey = apiKey;
    this.baseURL = (options.baseURL ?? readEnv('EDGE_INFERENCE_BASE_URL') ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    this.timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = options.maxRetries ?? 2;
    // Bound, so that a browser's fetch is not called with the client as `this`.
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.defaultHeaders = options.defaultHeaders ?? {};
  }

  /** Sends one logical request (with its retries); parses JSON, or returns a Stream when `stream` is set. */
  request<T>(req: FinalRequest, options: RequestOptions = {}): APIPromise<T> {
    const parse = (raw: RawResponse): T =>
      req.stream ? (Stream.fromSSEResponse(raw.response, raw.controller) as T) : (parseJSON(raw) as T);
    return new APIPromise(this.send(req, options), parse);
  }

  private async send(req: FinalRequest, options: RequestOptions): Promise<RawResponse> {
    const maxRetries = options.maxRetries ?? this.maxRetries;
    const init = this.buildInit(req, options);
    const url = this.buildURL(req);
    for (let attempt = 0; ; attempt++) {
      const retriesLeft = attempt < maxRetries;
      const outcome = await this.attempt(url, init, req.stream === true, options);
      if ('raw' in outcome) return outcome.raw;
      if (!retriesLeft || !outcome.retryable) throw outcome.error;
      await sleep(retryDelayMs(attempt + 1, outcome.headers), options.signal).catch(() => {
        throw new APIUserAbortError();
      });
    }
  }

  /** One HTTP attempt. Errors come back as values so that `send` can decide to retry. */
  private async attempt(
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
    }, options.timeout ?? this.timeout);
    try {
      const response = await this.fetch(url, { ...init, signal: controller.signal });
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

  private buildURL(req: FinalRequest): string {
    const base = req.root ? this.baseURL.replace(/\/v1$/, '') : this.baseURL;
    const query = Object.entries(req.query ?? {}).filter(([, v]) => v !== undefined && v !== null);
    const qs = query.length ? `?${new URLSearchParams(query.map(([k, v]) => [k, String(v)]))}` : '';
    return `${base}${req.path}${qs}`;
  }

  private buildInit(req: FinalRequest, options: RequestOptions): RequestInit {
    const headers: Record<string, string> = {
      accept: req.stream ? 'text/event-stream' : 'application/json',
      authorization: `Bearer ${this.apiKey}`,
      ...this.defaultHeaders,
    };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    if (req.method === 'POST') headers['idempotency-key'] = options.idempotencyKey ?? newIdempotencyKey();
    Object.assign(headers, options.headers);
    return { method: req.method, headers, body: req.body === undefined ? undefined : JSON.stringify(req.body) };
  }
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

function parseJSON(raw: RawResponse): unknown {
  try {
    return JSON.parse(raw.text ?? '');
  } catch {
    throw new APIError(raw.response.status, undefined, `Could not parse the response as JSON: ${(raw.text ?? '').slice(0, 200)}`, raw.response.headers);
  }
}

function newIdempotencyKey(): string {
  const uuid = globalThis.crypto?.randomUUID?.();
  return `sdk-${uuid ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`}`;
}
