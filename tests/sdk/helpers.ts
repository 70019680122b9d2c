// Test doubles for the SDK: a scripted fetch that records each call, and SSE bodies built from
// frames, optionally split into arbitrary byte chunks or failing partway.
import { EdgeInference, type ClientOptions } from '../../sdk/index';

export interface Call {
  url: string;
  init: RequestInit;
  headers: Headers;
  body: unknown;
  at: number;
}

type Reply = Response | Error | ((call: Call) => Response | Promise<Response>);

/** A fetch that answers each call with the next reply in order (the last one repeats). */
export function scriptedFetch(...replies: Reply[]) {
  const calls: Call[] = [];
  const fetch = async (
    input: string | URL | Request,
    init: RequestInit = {},
  ): Promise<Response> => {
    const call: Call = {
      url: String(input),
      init,
      headers: new Headers(init.headers),
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      at: performance.now(),
    };
    calls.push(call);
    const reply = replies[Math.min(calls.length - 1, replies.length - 1)];
    if (reply instanceof Error) throw reply;
    return typeof reply === 'function' ? reply(call) : reply.clone();
  };
  return { fetch, calls };
}

export function client(fetch: ClientOptions['fetch'], options: ClientOptions = {}) {
  return new EdgeInference({ apiKey: 'sk-test', baseURL: 'http://api.test/v1', fetch, ...options });
}

export const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'x-request-id': 'req-1', ...headers },
  });

export const apiError = (
  status: number,
  type: string,
  code: string | null = null,
  headers: Record<string, string> = {},
) =>
  json({ error: { message: `failed with ${status}`, type, param: null, code } }, status, headers);

/** An SSE response whose body is `text` cut into the given chunks (byte offsets), then maybe an error. */
export function sseResponse(
  text: string,
  options: { cuts?: number[]; failAfter?: Error; onCancel?: () => void } = {},
) {
  const bytes = new TextEncoder().encode(text);
  const bounds = [0, ...(options.cuts ?? []), bytes.length];
  const chunks = bounds.slice(1).map((end, i) => bytes.slice(bounds[i], end));
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]);
      else if (options.failAfter) controller.error(options.failAfter);
      else controller.close();
    },
    cancel() {
      options.onCancel?.();
    },
  });
  return new Response(body, {
    headers: {
      'content-type': 'text/event-stream',
      'x-request-id': 'req-s',
      'x-served-by': 'edge:tiny',
    },
  });
}

/** A body that never ends on its own (a long generation), recording whether it was cancelled. */
export function endlessSSE(frame: object) {
  const state = { cancelled: false, sent: 0 };
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      await new Promise((r) => setTimeout(r, 1));
      state.sent++;
      controller.enqueue(encoder.encode(`data: ${JSON.stringify(frame)}\n\n`));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return {
    response: new Response(body, { headers: { 'content-type': 'text/event-stream' } }),
    state,
  };
}

export const chunk = (content: string, extra: object = {}) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'tiny',
  system_fingerprint: 'fp',
  choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }],
  ...extra,
});

export const frames = (...items: (object | string)[]) =>
  items.map((f) => `data: ${typeof f === 'string' ? f : JSON.stringify(f)}\n\n`).join('');
