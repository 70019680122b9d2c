// How each generation endpoint looks when an origin answers it: its upstream path, ids, the JSON
// body assembled from a relayed generation, and an idempotent replay of a stored one.
import type { Context } from 'hono';
import { costHeaders } from '../billing/wire';
import type { RelayResult } from '../dispatch/relay';
import type { ChatCompletion, Completion } from '../protocol/responses';
import type { AppEnv } from './env';
import { SSE_HEADERS, sseFrame } from '../protocol/sse';

/** A generation request as the routes validated it, ready for an origin. */
export interface OriginCall {
  endpoint: 'chat.completions' | 'completions';
  /** The validated body; unknown fields go on to the origin. */
  request: Record<string, unknown>;
  /** The prompt's text: its first characters pick the origin, its length bounds the reservation. */
  prompt: string;
  maxTokens: number | null | undefined;
  stream: boolean;
  includeUsage: boolean;
}

interface Base {
  id: string;
  created: number;
  model: string;
}

const ORIGIN_FINGERPRINT = 'fp_origin_relay';

export const originShapes = {
  'chat.completions': {
    path: '/v1/chat/completions',
    idPrefix: 'chatcmpl',
    chunkObject: 'chat.completion.chunk',
    body: (base: Base, r: RelayResult): ChatCompletion => ({
      ...base,
      object: 'chat.completion',
      system_fingerprint: ORIGIN_FINGERPRINT,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: r.text,
            ...(r.reasoning ? { reasoning_content: r.reasoning } : {}),
          },
          logprobs: null,
          finish_reason: r.finishReason,
        },
      ],
      usage: r.usage,
    }),
    frames: (base: Base, r: RelayResult) => [
      {
        ...base,
        object: 'chat.completion.chunk',
        system_fingerprint: ORIGIN_FINGERPRINT,
        choices: [
          {
            index: 0,
            delta: { role: 'assistant', content: '' },
            logprobs: null,
            finish_reason: null,
          },
        ],
      },
      {
        ...base,
        object: 'chat.completion.chunk',
        system_fingerprint: ORIGIN_FINGERPRINT,
        choices: [{ index: 0, delta: { content: r.text }, logprobs: null, finish_reason: null }],
      },
      {
        ...base,
        object: 'chat.completion.chunk',
        system_fingerprint: ORIGIN_FINGERPRINT,
        choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: r.finishReason }],
      },
    ],
  },
  completions: {
    path: '/v1/completions',
    idPrefix: 'cmpl',
    chunkObject: 'text_completion',
    body: (base: Base, r: RelayResult): Completion => ({
      ...base,
      object: 'text_completion',
      system_fingerprint: ORIGIN_FINGERPRINT,
      choices: [{ index: 0, text: r.text, logprobs: null, finish_reason: r.finishReason }],
      usage: r.usage,
    }),
    frames: (base: Base, r: RelayResult) => [
      {
        ...base,
        object: 'text_completion',
        system_fingerprint: ORIGIN_FINGERPRINT,
        choices: [{ index: 0, text: r.text, logprobs: null, finish_reason: null }],
      },
      {
        ...base,
        object: 'text_completion',
        system_fingerprint: ORIGIN_FINGERPRINT,
        choices: [{ index: 0, text: '', logprobs: null, finish_reason: r.finishReason }],
      },
    ],
  },
} as const;

/** A completed origin generation stored under an idempotency key, answered again in the caller's form. */
export function replayOrigin(
  c: Context<AppEnv>,
  call: OriginCall,
  base: Base,
  r: RelayResult,
  headers: Record<string, string>,
): Response {
  const shape = originShapes[call.endpoint];
  if (!call.stream)
    return c.json(shape.body(base, r), 200, { ...headers, ...costHeaders(r.usage) });
  const frames: object[] = shape
    .frames(base, r)
    .map((f) => (call.includeUsage ? { ...f, usage: null } : f));
  const last = frames.length - 1;
  if (call.includeUsage)
    frames.push({
      ...base,
      object: shape.chunkObject,
      system_fingerprint: ORIGIN_FINGERPRINT,
      choices: [],
      usage: r.usage,
    });
  else if (r.usage.cost) frames[last] = { ...frames[last], usage: r.usage };
  const body = [...frames.map((f) => sseFrame(f)), sseFrame('[DONE]')].join('');
  return new Response(body, { headers: { ...SSE_HEADERS, ...headers } });
}
