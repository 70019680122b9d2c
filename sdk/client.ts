// The client: base URL, key, timeouts, retries, an injectable `fetch`, and one resource object per
// endpoint. Web APIs only (fetch, AbortController, TextDecoder), so it runs in Node 18+, Workers,
// Deno and browsers. The wire work (attempts, retries, timeouts) is core/transport.ts.
import { APIPromise, type RawResponse } from './core/api-promise';
import { EdgeInferenceError } from './core/errors';
import { Stream } from './core/stream';
import {
  parseJSON,
  send,
  type Fetch,
  type FinalRequest,
  type RequestOptions,
  type TransportConfig,
} from './core/transport';
import { Balance } from './resources/balance';
import { Chat } from './resources/chat';
import { Completions } from './resources/completions';
import { Models } from './resources/models';
import { UsageResource } from './resources/usage';

export type { Fetch, FinalRequest, RequestOptions };

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

const DEFAULT_BASE_URL = 'http://127.0.0.1:8787/v1';
const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;

/** Reads an environment variable where there is a `process` (Node, Bun); never fails elsewhere. */
const readEnv = (name: string): string | undefined =>
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[
    name
  ]?.trim() || undefined;

export class EdgeInference {
  readonly apiKey: string;
  readonly baseURL: string;
  readonly timeout: number;
  readonly maxRetries: number;
  private readonly transport: TransportConfig;

  readonly chat = new Chat(this);
  readonly completions = new Completions(this);
  readonly models = new Models(this);
  readonly usage = new UsageResource(this);
  readonly balance = new Balance(this);

  constructor(options: ClientOptions = {}) {
    const apiKey = options.apiKey ?? readEnv('EDGE_INFERENCE_API_KEY');
    if (!apiKey)
      throw new EdgeInferenceError('No API key: pass `apiKey` or set EDGE_INFERENCE_API_KEY.');
    this.apiKey = apiKey;
    this.baseURL = (
      options.baseURL ??
      readEnv('EDGE_INFERENCE_BASE_URL') ??
      DEFAULT_BASE_URL
    ).replace(/\/+$/, '');
    this.timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = options.maxRetries ?? 2;
    this.transport = {
      apiKey,
      baseURL: this.baseURL,
      timeout: this.timeout,
      maxRetries: this.maxRetries,
      // Wrapped, so that a browser's fetch is not called with another object as `this`.
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      defaultHeaders: options.defaultHeaders ?? {},
    };
  }

  /** Sends one logical request (with its retries); parses JSON, or returns a Stream when `stream` is set. */
  request<T>(req: FinalRequest, options: RequestOptions = {}): APIPromise<T> {
    const parse = (raw: RawResponse): T =>
      req.stream
        ? (Stream.fromSSEResponse(raw.response, raw.controller) as T)
        : (parseJSON(raw) as T);
    return new APIPromise(send(this.transport, req, options), parse);
  }
}
