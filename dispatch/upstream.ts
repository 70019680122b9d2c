// The upstream client: sends a generation to an origin pool's origins in policy order and returns
// the first one that produces output within its timeouts. Retrying is safe only before the client
// has a byte, so frames that come before the first output (a role frame) are held, never sent,
// until an origin proves it generates; after that the caller relays and nothing is retried.
import { probeOrigin, type HealthBoard } from './health';
import { originName, type OriginConfig, type OriginPool } from './registry';
import { SseReader } from './sse';
import { statusError, Timeout, Unreachable, UpstreamError, withTimeout } from './upstream-errors';

export { UpstreamError } from './upstream-errors';

export interface UpstreamRequest {
  pool: OriginPool;
  path: '/v1/chat/completions' | '/v1/completions';
  body: Record<string, unknown>;
  requestId: string;
  /** The tenant's prefix-cache salt (`x-cache-salt`): a prefix never hits another tenant's cache. */
  salt: string;
  /** The credential named by `pool.auth.secret`. */
  secret?: string;
  /** More headers for the origin (`x-prefill-origin` to a decode origin: pd-choice.ts). */
  headers?: Record<string, string>;
  /** The client went away: stop whatever is in flight. */
  signal?: AbortSignal;
  /** Asks an origin for a client-ready stream (origin/server/relay-ends.ts): the Worker pipes it on. */
  relayHead?: {
    key: string;
    id: string;
    model: string;
    created: number;
    system_fingerprint: string;
    include_usage: boolean;
  };
}

/** A client-ready stream after its first output: bytes to pipe on, and its end once they are over. */
export interface PipedUpstream {
  body: ReadableStream<Uint8Array>;
  /** The held end (SSE data: finishes, an error, the usage chunk), asked for on the first call; rejects when the origin cannot say. */
  end(): Promise<string[]>;
  /** The total timeout ended the stream. */
  timedOut(): boolean;
}

/** An origin that has produced output: its frames so far, and the rest to relay. */
export interface OpenedUpstream {
  origin: OriginConfig;
  served: string;
  attempts: number;
  /** From sending the request to its first output frame, on the origin that answered. */
  firstTokenMs: number;
  headers: Headers;
  /** Frames received so far (held ones, then the first output), in order. */
  first: string[];
  /** The rest of the stream; null at its end. Rejects on an upstream failure or the total timeout. */
  next(): Promise<string | null>;
  /** Frames already received after the last next(), without waiting. */
  drain(): string[];
  /** Ends the upstream request (client gone, or done) and frees the origin's slot; idempotent. */
  close(): void;
  /** Set when the origin sent a client-ready stream that could be handed over: then next() and drain() are not used. */
  piped?: PipedUpstream;
  /**
   * Set when the origin holds the stream's end (a client-ready stream, relay-ends.ts): the frames
   * after the body's last, whether the body is piped or read (a first read that ended inside a frame).
   */
  heldEnd?: () => Promise<string[]>;
}

/** The pool's credential header alone (for probes). */
export function authOf(req: {
  pool: Pick<OriginPool, 'auth'>;
  secret?: string;
}): Record<string, string> {
  const auth = req.pool.auth;
  return auth && req.secret
    ? { [auth.header]: auth.scheme ? `${auth.scheme} ${req.secret}` : req.secret }
    : {};
}

export function upstreamHeaders(req: UpstreamRequest): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'text/event-stream',
    'x-request-id': req.requestId,
    'x-cache-salt': req.salt,
  };
  if (req.relayHead) headers['x-relay-head'] = JSON.stringify(req.relayHead);
  return { ...headers, ...req.headers, ...authOf(req) };
}

/** Tries `order` until an origin produces output; throws the last UpstreamError when none does. */
export async function openUpstream(
  order: readonly OriginConfig[],
  req: UpstreamRequest,
  health: HealthBoard,
): Promise<OpenedUpstream> {
  let last: UpstreamError = new UpstreamError(
    503,
    `No origin is available for model '${req.pool.id}'.`,
    'origin_unavailable',
    1,
  );
  let attempts = 0;
  for (const origin of order) {
    if (req.signal?.aborted)
      throw new UpstreamError(
        499,
        'The client closed the request.',
        'client_closed_request',
        undefined,
        true,
      );
    attempts++;
    const result = await attempt(origin, req, health, attempts);
    if (!(result instanceof UpstreamError)) return result;
    last = result;
    if (result.clientError) break; // the request itself is wrong: every origin would say the same
  }
  throw last;
}

async function attempt(
  origin: OriginConfig,
  req: UpstreamRequest,
  health: HealthBoard,
  attempts: number,
): Promise<OpenedUpstream | UpstreamError> {
  const { first_token_ms, total_ms } = req.pool.timeouts;
  const started = Date.now();
  const deadline = started + first_token_ms;
  const abort = new AbortController();
  const onClientAbort = () => abort.abort(new Error('client closed the request'));
  req.signal?.addEventListener('abort', onClientAbort);
  const release = health.acquire(origin.url);
  let totalTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let sse: SseReader | null = null;
  // A piped stream's end is still asked for after the client left (what was generated is billed).
  const ended = new AbortController();
  const close = () => {
    if (closed) return;
    closed = true;
    ended.abort(new Error('relay closed'));
    clearTimeout(totalTimer);
    req.signal?.removeEventListener('abort', onClientAbort);
    void sse?.cancel();
    abort.abort(new Error('relay closed'));
    release();
  };
  try {
    const request = fetch(origin.url + req.path, {
      method: 'POST',
      headers: upstreamHeaders(req),
      body: JSON.stringify(req.body),
      signal: abort.signal,
    });
    const res = await awaitHeaders(request, origin, req, deadline);
    if (!res.ok || !res.body) {
      const error = await statusError(origin, res, health);
      close();
      return error;
    }
    sse = new SseReader(res.body.getReader());
    const first = await awaitFirstOutput(sse, deadline);
    const firstTokenMs = Date.now() - started;
    health.onSuccess(origin.url, firstTokenMs);
    const reader = sse;
    let timedOut = false;
    totalTimer = setTimeout(
      () => {
        timedOut = true;
        void reader.cancel(new Timeout());
        // a piped body is no longer the reader's: ending the request ends it
        if (piped) abort.abort(new Timeout());
      },
      Math.max(0, started + total_ms - Date.now()),
    );
    const heldEnd =
      req.relayHead && res.headers.get('x-relay-frames') === 'client-ready'
        ? askEnd(origin, req, ended.signal)
        : undefined;
    const held = heldEnd ? sse.detach() : null;
    const piped: PipedUpstream | null = held
      ? { body: res.body, end: heldEnd!, timedOut: () => timedOut }
      : null;
    if (held) first.push(...held);
    const next = async () => {
      try {
        const data = await reader.next();
        if (timedOut)
          throw new UpstreamError(
            504,
            `The origin did not finish within ${total_ms} ms.`,
            'upstream_timeout',
          );
        return data;
      } catch (err) {
        if (!closed && !(err instanceof UpstreamError)) health.onFailure(origin.url, 'server');
        throw err;
      }
    };
    return {
      origin,
      served: `origin:${originName(origin)}`,
      attempts,
      firstTokenMs,
      headers: res.headers,
      first,
      next,
      drain: () => (timedOut ? [] : reader.drain()),
      close,
      ...(heldEnd ? { heldEnd } : {}),
      ...(piped ? { piped } : {}),
    };
  } catch (err) {
    close();
    return attemptFailed(err, origin, req, health, sse !== null);
  }
}

/**
 * The origin's response headers. Ours sends them with its first token (so that an error before it
 * still gets a status), others at once; so the wait is bounded by the first-token deadline, and
 * `connect_ms` only asks whether the origin is reachable at all: headers or a `/health` answer within it.
 */
async function awaitHeaders(
  request: Promise<Response>,
  origin: OriginConfig,
  req: UpstreamRequest,
  deadline: number,
): Promise<Response> {
  const { connect_ms } = req.pool.timeouts;
  try {
    return await withTimeout(request, Math.min(connect_ms, deadline - Date.now()));
  } catch (err) {
    if (!(err instanceof Timeout) || Date.now() >= deadline) throw err;
  }
  const alive = await probeOrigin(origin.url, req.pool.health_path, connect_ms, authOf(req));
  if (!alive.ok) throw new Unreachable(`no response and no /health answer within ${connect_ms} ms`);
  return withTimeout(request, deadline - Date.now());
}

/**
 * A client-ready stream's held end, asked for on the first call (the relay makes it once the first
 * output is on its way, not before: the first token waits for nothing): the origin answers when the
 * stream is over, so the end costs no round trip. Not tied to the client: what it left behind is
 * still billed.
 */
function askEnd(
  origin: OriginConfig,
  req: UpstreamRequest,
  signal: AbortSignal,
): () => Promise<string[]> {
  const url = `${origin.url}/v1/relay-ends/${req.relayHead!.key}`;
  let ends: Promise<string[]> | null = null;
  return () => {
    if (ends) return ends;
    ends = fetch(url, { headers: authOf(req), signal }).then(async (res) => {
      if (!res.ok) throw new Error(`${url} answered ${res.status}`);
      return ((await res.json()) as { frames: string[] }).frames;
    });
    ends.catch(() => {}); // its reader may have failed before it asks
    return ends;
  };
}

/** Frames up to the first output; those before it (a role frame) are held, not sent. */
async function awaitFirstOutput(sse: SseReader, deadline: number): Promise<string[]> {
  const first: string[] = [];
  for (;;) {
    const data = await withTimeout(sse.next(), deadline - Date.now());
    if (data === null) throw new Error('the stream ended before any output');
    first.push(data);
    if (isErrorFrame(data)) throw new Error(`error frame before any output: ${data}`);
    if (isOutput(data)) return first;
  }
}

function attemptFailed(
  err: unknown,
  origin: OriginConfig,
  req: UpstreamRequest,
  health: HealthBoard,
  responded: boolean,
): UpstreamError {
  if (req.signal?.aborted)
    return new UpstreamError(
      499,
      'The client closed the request.',
      'client_closed_request',
      undefined,
      true,
    );
  const name = originName(origin);
  if (err instanceof Timeout) {
    health.onFailure(origin.url, 'timeout');
    return new UpstreamError(
      504,
      `Origin ${name} did not produce a token within ${req.pool.timeouts.first_token_ms} ms.`,
      'upstream_timeout',
      1,
    );
  }
  // A refused, reset or unreachable connection before any response is a dead origin: its circuit opens at once.
  health.onFailure(origin.url, responded ? 'server' : 'connect');
  return new UpstreamError(
    503,
    `Origin ${name} failed: ${(err as Error).message}`,
    'origin_unavailable',
    1,
  );
}

/** A frame that is output: text, a finish reason, usage alone, an error, or the end. */
export function isOutput(data: string): boolean {
  if (data === '[DONE]') return true;
  try {
    const frame = JSON.parse(data) as {
      error?: unknown;
      choices?: {
        text?: string;
        delta?: {
          content?: string | null;
          reasoning_content?: string | null;
          tool_calls?: unknown;
        };
        finish_reason?: string | null;
      }[];
    };
    if (frame.error || !frame.choices?.length) return true;
    return frame.choices.some(
      (c) =>
        !!c.text ||
        !!c.delta?.content ||
        !!c.delta?.reasoning_content ||
        !!c.delta?.tool_calls ||
        !!c.finish_reason,
    );
  } catch {
    return true;
  }
}

const isErrorFrame = (data: string) =>
  data.startsWith('{"error"') || /^\{\s*"error"\s*:/.test(data);
