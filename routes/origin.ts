// A generation served by an origin pool: pick the origins (health, prefix affinity, load), admit
// and reserve at the model's price, relay the first origin that produces a token, bill what the
// origin reports. When no origin can answer and the model lists fallbacks, the caller is told
// which model to serve instead, with a fresh meter so the answer is billed at that model's price.
import type { Context } from 'hono';
import { costHeaders } from '../billing/wire';
import type { Dispatcher } from '../dispatch/dispatcher';
import { unavailable } from '../dispatch/fallback';
import { originName, type OriginPool } from '../dispatch/registry';
import {
  collect,
  relayResponse,
  type RelayContext,
  type RelayResult,
  type RelayStatus,
} from '../dispatch/relay';
import {
  openUpstream,
  UpstreamError,
  type OpenedUpstream,
  type UpstreamRequest,
} from '../dispatch/upstream';
import type { ApiError } from '../protocol/errors';
import type { AppEnv } from './env';
import { toApiError } from './errors';
import { fallBack, waitUntilOf, type Fallbacks, type OriginOutcome } from './origin-fallback';
import { originShapes, replayOrigin, type OriginCall } from './origin-shapes';

export type { OriginCall } from './origin-shapes';

/** What a generation route does next: the origin's answer, or the edge model to run (with headers saying why). */
export type Routed = { response: Response } | { model: string; headers: Record<string, string> };

/**
 * The generation routes' entry into dispatch: an origin model is served here (or falls back to an
 * edge model, which the route then runs); an edge model goes back to the route unchanged.
 */
export async function routeGeneration(
  c: Context<AppEnv>,
  d: Dispatcher,
  model: string,
  call: OriginCall,
): Promise<Routed> {
  const target = d.target(c.env, model);
  if (target.kind === 'edge') return { model, headers: { 'x-served-model': model } };
  const outcome = await serveOrigin(c, d, target.pool, call, {
    tried: new Set(),
    chain: target.pool.fallbacks,
  });
  if (!('response' in outcome))
    return {
      model: outcome.fallback,
      headers: { 'x-served-model': outcome.fallback, 'x-fallback-from': model },
    };
  // Another origin pool in the fallback list answered.
  if (outcome.response.headers.get('x-served-model') !== model)
    outcome.response.headers.set('x-fallback-from', model);
  return outcome;
}

/** A chat's text with its roles, for affinity and the token bound (roles stand in for the template's tokens). */
export function chatPromptText(
  messages: { role: string; content: string | { text: string }[] | null }[],
): string {
  return messages
    .map(
      (m) =>
        `${m.role}\n${typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text).join('')}`,
    )
    .join('\n');
}

export async function serveOrigin(
  c: Context<AppEnv>,
  d: Dispatcher,
  pool: OriginPool,
  call: OriginCall,
  fallbacks: Fallbacks,
): Promise<OriginOutcome> {
  fallbacks.tried.add(pool.id);
  const secret = pool.auth
    ? (c.env as unknown as Record<string, string | undefined>)[pool.auth.secret]
    : undefined;
  const choice = d.choose(pool, call.prompt, { waitUntil: waitUntilOf(c), secret });
  if (!choice.ok)
    return fallBack(c, d, pool, call, fallbacks, unavailable(pool, choice), false, serveOrigin);

  const requestId = c.get('requestId');
  const shape = originShapes[call.endpoint];
  const base = {
    id: `${shape.idPrefix}-${requestId}`,
    created: Math.floor(Date.now() / 1000),
    model: pool.id,
  };
  const headers: Record<string, string> = { 'x-request-id': requestId, 'x-served-model': pool.id };
  const maxTokens = call.maxTokens ?? pool.max_output_tokens;
  const meter = c.get('meter');
  const stored = await meter?.admit({
    endpoint: call.endpoint,
    model: pool.id,
    placement: 'origin',
    servedBy: `origin:${originName(choice.order[0])}`,
    promptTokens: reserveTokens(call.prompt),
    maxTokens,
    request: call.request,
  });
  if (stored)
    return {
      response: replayOrigin(c, call, base, JSON.parse(stored) as RelayResult, {
        ...headers,
        'idempotent-replayed': 'true',
      }),
    };

  const req = upstreamRequest(c, pool, call, maxTokens, secret);
  const started = Date.now();
  let up: OpenedUpstream;
  try {
    up = await openUpstream(choice.order, req, d.health);
  } catch (err) {
    return fallBack(c, d, pool, call, fallbacks, err as ApiError, true, serveOrigin);
  }
  const ctx: RelayContext = {
    ...base,
    object: shape.chunkObject,
    includeUsage: call.includeUsage,
    promptEstimate: billTokens(call.prompt),
    settle: (status: RelayStatus, result: RelayResult) => {
      const counts = {
        promptTokens: result.usage.prompt_tokens,
        cachedTokens: result.usage.prompt_cache_hit_tokens,
        completionTokens: result.usage.completion_tokens,
      };
      const replay = (cost: RelayResult['usage']['cost']) =>
        JSON.stringify({ ...result, usage: { ...result.usage, cost } });
      return meter ? meter.finish({ status, ...counts, replay }) : Promise.resolve(undefined);
    },
  };
  if (call.stream)
    return {
      response: relayResponse(up, ctx, (err) => toApiError(midStreamError(err)).toJSON(), {
        ...headers,
        ...servedHeaders(up),
      }),
    };
  const answer = { ctx, headers, started, body: (r: RelayResult) => shape.body(base, r) };
  return { response: await answerJson(c, d, up, choice.order, req, answer) };
}

/** The body sent to the origin: the client's request, streamed with usage (a JSON answer is assembled here). */
function upstreamRequest(
  c: Context<AppEnv>,
  pool: OriginPool,
  call: OriginCall,
  maxTokens: number,
  secret?: string,
): UpstreamRequest {
  const salt = c.get('key')?.tenantSalt ?? 'public';
  const body: Record<string, unknown> = {
    ...call.request,
    model: pool.upstream_model ?? pool.id,
    max_tokens: maxTokens,
    stream: true,
    stream_options: { include_usage: true, continuous_usage_stats: true },
  };
  delete body.max_completion_tokens;
  if (pool.cache_salt_in_body) body.cache_salt = salt;
  return {
    pool,
    path: originShapes[call.endpoint].path,
    body,
    requestId: c.get('requestId'),
    salt,
    secret,
    signal: c.req.raw.signal,
  };
}

const servedHeaders = (up: OpenedUpstream): Record<string, string> => ({
  'x-served-by': up.served,
  'x-upstream-first-token-ms': String(up.firstTokenMs),
  'x-upstream-attempts': String(up.attempts),
  ...(up.headers.get('x-cache-hit-tokens')
    ? { 'x-cache-hit-tokens': up.headers.get('x-cache-hit-tokens')! }
    : {}),
});

/**
 * A JSON answer reaches the client only at its end, so an origin that fails midway is retried whole
 * on the next one (its partial work is not billed: nothing of it was delivered).
 */
async function answerJson(
  c: Context<AppEnv>,
  d: Dispatcher,
  up: OpenedUpstream,
  order: OpenedUpstream['origin'][],
  req: UpstreamRequest,
  {
    ctx,
    headers,
    started,
    body,
  }: {
    ctx: RelayContext;
    headers: Record<string, string>;
    started: number;
    body: (r: RelayResult) => object;
  },
): Promise<Response> {
  let attempts = up.attempts;
  for (;;) {
    let result: RelayResult;
    try {
      result = await collect(up, ctx);
    } catch (err) {
      const rest = order.slice(order.indexOf(up.origin) + 1);
      if (rest.length === 0 || c.req.raw.signal.aborted) {
        await ctx.settle('failed', {
          text: '',
          reasoning: '',
          finishReason: 'stop',
          usage: { ...zeroUsage },
        });
        throw midStreamError(err);
      }
      up = await openUpstream(rest, req, d.health).catch(async (e) => {
        await ctx.settle('failed', {
          text: '',
          reasoning: '',
          finishReason: 'stop',
          usage: { ...zeroUsage },
        });
        throw e;
      });
      attempts += up.attempts;
      continue;
    }
    const cost = await ctx.settle('completed', result);
    if (cost) result.usage.cost = cost;
    const latency = {
      'x-upstream-latency-ms': String(Date.now() - started),
      'x-cache-hit-tokens': String(result.usage.prompt_cache_hit_tokens),
    };
    const all = {
      ...headers,
      ...servedHeaders(up),
      'x-upstream-attempts': String(attempts),
      ...latency,
      ...costHeaders(result.usage),
    };
    return c.json(body(result), 200, all);
  }
}

const zeroUsage = {
  prompt_tokens: 0,
  completion_tokens: 0,
  total_tokens: 0,
  prompt_cache_hit_tokens: 0,
  prompt_cache_miss_tokens: 0,
  prompt_tokens_details: { cached_tokens: 0 },
};

function midStreamError(err: unknown): ApiError {
  if (err instanceof UpstreamError) return err;
  return new UpstreamError(
    502,
    `The origin failed during generation: ${(err as Error)?.message ?? err}`,
    'upstream_failed',
  );
}

const utf8Bytes = (text: string) => new TextEncoder().encode(text).length;
/** An upper bound on the prompt's tokens before the origin has counted them (a token is at least a byte), plus template overhead. */
export const reserveTokens = (prompt: string) => utf8Bytes(prompt) + 64;
/** What a prompt is billed as when the origin never reported its count (it failed first): the usual ~4 bytes a token. */
export const billTokens = (prompt: string) => Math.ceil(utf8Bytes(prompt) / 4);
