// A generation as the dispatcher takes it from a route: the validated request (`OriginCall`) and
// what dispatch needs of the client's HTTP request (`PlacementRequest`, no Hono: routes/context.ts
// builds it), plus how each endpoint looks when an origin answers it.
import type { Meter } from '../billing/meter';
import { systemFingerprint } from '../protocol/fingerprint';
import type { LatencyClock } from '../protocol/latency';
import { chatFrames, completionFrames } from '../protocol/endpoint-frames';
import type { Head, Shapes } from '../protocol/frames';
import type { DispatchEnv } from './dispatcher';
import type { OriginPool } from './registry';

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
  /** The model name the answer shows (an alias the client sent); default the pool's id. Set by placement.ts. */
  shownAs?: string;
  /** Split the origin's raw `<think>` text into `reasoning_content`. Set by placement.ts. */
  reasoning?: boolean;
}

/** The client's request, as far as dispatch needs it. */
export interface PlacementRequest {
  /** The Worker's bindings: the registry, and the secrets that pools name as their credentials. */
  env: DispatchEnv;
  requestId: string;
  /** The tenant's prefix-cache salt: a prefix never hits another tenant's cache. */
  tenantSalt: string;
  /** The client went away. */
  signal: AbortSignal;
  /** Prices and records the generation; absent where billing is off. */
  meter?: Pick<Meter, 'admit' | 'finish' | 'fallBack' | 'replays'>;
  /** Keeps work alive after the response (health probes). */
  waitUntil: (p: Promise<unknown>) => void;
  /** The client refused fallbacks (`x-fallback: none`): a model that cannot answer is a 503. */
  refuseFallback?: boolean;
  /** The request's latency clock (routes' timing middleware): the relay marks each output frame. */
  latency?: LatencyClock;
}

/** The binding a pool names as its credential. */
export const secretOf = (env: DispatchEnv, name: string): string | undefined =>
  (env as Record<string, unknown>)[name] as string | undefined;

/** Each endpoint's upstream path, ids, and frames (a JSON answer or a replay is built from them). */
export const originEndpoints = {
  'chat.completions': {
    path: '/v1/chat/completions',
    idPrefix: 'chatcmpl',
    chunkObject: 'chat.completion.chunk',
    shapes: (head: Head, includeUsage: boolean): Shapes => chatFrames(head, includeUsage),
  },
  completions: {
    path: '/v1/completions',
    idPrefix: 'cmpl',
    chunkObject: 'text_completion',
    // The origin echoes the prompt itself: its text already holds it.
    shapes: (head: Head, includeUsage: boolean): Shapes => completionFrames(head, includeUsage, ''),
  },
} as const;

/**
 * The fields every frame and body of an origin's answer starts with. The fingerprint is the pool's
 * (the relay puts it on every frame in place of the origin's, which vLLM leaves out of its chunks).
 */
export const originHead = (
  call: OriginCall,
  requestId: string,
  model: string,
  pool: Pick<OriginPool, 'id' | 'upstream_model'>,
): Head => ({
  id: `${originEndpoints[call.endpoint].idPrefix}-${requestId}`,
  created: Math.floor(Date.now() / 1000),
  model,
  system_fingerprint: systemFingerprint('origin-pool', pool.id, pool.upstream_model ?? ''),
});

/**
 * A chat's text with its roles, for affinity and the token bound (roles stand in for the template's
 * tokens): assistant turns' tool calls and the offered tools count too, as the template renders them.
 */
export function chatPromptText(
  messages: {
    role: string;
    content: string | { text: string }[] | null;
    tool_calls?: { function: { name: string; arguments: string } }[] | null;
  }[],
  tools?: unknown[] | null,
): string {
  const turns = messages.map((m) => {
    const text =
      typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text).join('');
    const calls = (m.tool_calls ?? []).map((c) => `\n${c.function.name}${c.function.arguments}`);
    return `${m.role}\n${text}${calls.join('')}`;
  });
  return turns.join('\n') + (tools?.length ? `\n${JSON.stringify(tools)}` : '');
}

const utf8Bytes = (text: string) => new TextEncoder().encode(text).length;
/** An upper bound on the prompt's tokens before the origin has counted them (a token is at least a byte), plus template overhead. */
export const reserveTokens = (prompt: string) => utf8Bytes(prompt) + 64;
/** What a prompt is billed as when the origin never reported its count (it failed first): the usual ~4 bytes a token. */
export const billTokens = (prompt: string) => Math.ceil(utf8Bytes(prompt) / 4);
