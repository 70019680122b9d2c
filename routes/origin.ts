// A generation served by an origin pool: pick the origins (health, prefix affinity, load), admit
// and reserve at the model's price, relay the first origin that produces a token, bill what the
// origin reports. When no origin can answer and the model lists fallbacks, the caller is told
// which model to serve instead, with a fresh meter so the answer is billed at that model's price.
import type { Context } from 'hono';
import { Meter } from '../billing/meter';
import { prices } from '../billing/prices';
import { costHeaders } from '../billing/wire';
import type { Dispatcher } from '../dispatch/dispatcher';
import { fallbackTarget, nextFallback, unavailable } from '../dispatch/fallback';
import { originName, type OriginPool } from '../dispatch/registry';
import { collect, relayResponse, type RelayContext, type RelayResult, type RelayStatus } from '../dispatch/relay';
import { openUpstream, UpstreamError, type OpenedUpstream, type UpstreamRequest } from '../dispatch/upstream';
import type { ApiError } from '../protocol/errors';
import type { AppEnv } from './env';
import { toApiError } from './errors';
import { originShapes, replayOrigin, type OriginCall } from './origin-shapes';

export type { OriginCall } from './origin-shapes';

/** The response, or the edge model to serve instead (origin fallbacks are followed here). */
export type OriginOutcome = { response: Response } | { fallback: string };

/** What a generation route does next: the origin's answer, or the edge model to run (with headers saying why). */
export type Routed = { response: Response } | { model: string; headers: Record<string, string> };

/**
 * The generation routes' entry into dispatch: an origin model is served here (or falls back to an
 * edge model, which the route then runs); an edge model goes back to the route unchanged.
 */
export async function routeGeneration(c: Context<AppEnv>, d: Dispatcher, model: string, call: OriginCall): Promise<Routed> {
  const target = d.target(c.env, model);
  if (target.kind === 'edge') return { model, headers: { 'x-served-model': model } };
  const outcome = await serveOrigin(c, d, target.pool, call);
  if (!('response' in outcome)) return { model: outcome.fallback, headers: { 'x-served-model': outcome.fallback, 'x-fallback-from': model } };
  // Another origin pool in the fallback list answered.
  if (outcome.response.headers.get('x-served-model') !== model) outcome.response.headers.set('x-fallback-from', model);
  return outcome;
}

/** A chat's text with its roles, for affinity and the token bound (roles stand in for the template's tokens). */
export function chatPromptText(messages: { role: string; content: string | { text: string }[] | null }[]): string {
  return messages.map((m) => `${m.role}\n${typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text).join('')}`).join('\n');
}

/** `chain`: the fallbacks left to try, the requested model's first, then those of any origin fallback. */
export async function serveOrigin(c: Context<AppEnv>, d: Dispatcher, pool: OriginPool, call: OriginCall, tried = new Set<string>(), chain = pool.fallbacks): Promise<OriginOutcome> {
  tried.add(pool.id);
  const secret = pool.auth ? (c.env as unknown as Record<string, string>)[pool.auth.secret] : undefined;
  const choice = d.choose(pool, call.prompt, { waitUntil: waitUntilOf(c), secret });
  if (!choice.ok) return fallBack(c, d, pool, call, { tried, chain }, unavailable(pool, choice), false);

  const requestId = c.get('requestId');
  const maxTokens = call.maxTokens ?? pool.max_output_tokens;
  const meter = c.get('meter');
  const stored = meter
    ? await meter.admit({
        endpoint: call.endpoint, model: pool.id, placement: 'origin', servedBy: `origin:${originName(choice.order[0])}`,
        promptTokens: reserveTokens(call.prompt), maxTokens, request: call.request,
      })
    : null;
  const shape = originShapes[call.endpoint];
  const base = { id: `${shape.idPrefix}-${requestId}`, created: Math.floor(Date.now() / 1000), model: pool.id };
  const headers: Record<string, string> = { 'x-request-id': requestId, 'x-served-model': pool.id };
  if (stored) return { response: replayOrigin(c, call, base, JSON.parse(stored) as RelayResult, { ...headers, 'idempotent-replayed': 'true' }) };

  const body = { ...call.request, model: pool.upstream_model ?? pool.id, stream: true, stream_options: { include_usage: true, continuous_usage_stats: true }, max_tokens: maxTokens };
  delete (body as Record<string, unknown>).max_completion_tokens;
  if (pool.cache_salt_in_body) (body as Record<string, unknown>).cache_salt = c.get('key')?.tenantSalt;
  const req: UpstreamRequest = { pool, path: shape.path, body, requestId, salt: c.get('key')?.tenantSalt ?? 'public', secret, signal: c.req.raw.signal };
  const started = Date.now();
  let up: OpenedUpstream;
  try {
    up = await openUpstream(choice.order, req, d.health);
  } catch (err) {
    return fallBack(c, d, pool, call, { tried, chain }, err as ApiError, true);
  }

  let settled = false;
  const ctx: RelayContext = {
    ...base, object: shape.chunkObject, includeUsage: call.includeUsage, promptEstimate: billTokens(call.prompt),
    settle: async (status: RelayStatus, result: RelayResult) => {
      settled = true;
      const counts = { promptTokens: result.usage.prompt_tokens, cachedTokens: result.usage.prompt_cache_hit_tokens, completionTokens: result.usage.completion_tokens };
      const replay = (cost: RelayResult['usage']['cost']) => JSON.stringify({ ...result, usage: { ...result.usage, cost } });
      return meter?.finish({ status, ...counts, replay });
    },
  };
  const served = (u: OpenedUpstream) => ({
    ...headers, 'x-served-by': u.served, 'x-upstream-first-token-ms': String(u.firstTokenMs), 'x-upstream-attempts': String(u.attempts),
    ...(u.headers.get('x-cache-hit-tokens') ? { 'x-cache-hit-tokens': u.headers.get('x-cache-hit-tokens')! } : {}),
  });
  if (call.stream) return { response: relayResponse(up, ctx, (err) => toApiError(midStreamError(err)).toJSON(), served(up)) };

  // A JSON answer reaches the client only at the end: an origin that fails midway is retried on the
  // next one (the partial work is not billed: nothing of it was delivered).
  try {
    for (let attempts = up.attempts; ; ) {
      try {
        const result = await collect(up, ctx);
        const cost = await ctx.settle('completed', result);
        if (cost) result.usage.cost = cost;
        const extra = { 'x-upstream-latency-ms': String(Date.now() - started), 'x-cache-hit-tokens': String(result.usage.prompt_cache_hit_tokens), ...costHeaders(result.usage) };
        return { response: c.json(shape.body(base, result), 200, { ...served(up), ...extra, 'x-upstream-attempts': String(attempts) }) };
      } catch (err) {
        const rest = choice.order.slice(choice.order.indexOf(up.origin) + 1);
        if (rest.length === 0 || c.req.raw.signal.aborted) throw midStreamError(err);
        up = await openUpstream(rest, req, d.health);
        attempts += up.attempts;
      }
    }
  } catch (err) {
    if (!settled) await meter?.finish({ status: 'failed', promptTokens: 0, cachedTokens: 0, completionTokens: 0 });
    throw err;
  }
}

/** No origin answered: the next fallback, or the error. An admitted request's meter is settled (free) and replaced. */
async function fallBack(
  c: Context<AppEnv>, d: Dispatcher, pool: OriginPool, call: OriginCall, { tried, chain }: { tried: Set<string>; chain: string[] }, err: ApiError, admitted: boolean,
): Promise<OriginOutcome> {
  const next = nextFallback(chain, tried);
  const clientError = err instanceof UpstreamError && err.clientError;
  if (admitted) await c.get('meter')?.finish({ status: 'failed', promptTokens: 0, cachedTokens: 0, completionTokens: 0 });
  if (next === null || clientError) throw err;
  console.warn(`request ${c.get('requestId')}: ${pool.id} unavailable (${err.message}); falling back to ${next}`);
  if (admitted && c.get('meter')) c.set('meter', freshMeter(c));
  const target = fallbackTarget(d.registry(c.env), next);
  return target.kind === 'edge' ? { fallback: target.id } : serveOrigin(c, d, target.pool, call, tried, [...chain, ...target.pool.fallbacks]);
}

/** A second admission for the fallback model: the metering middleware's meter was settled as failed. */
function freshMeter(c: Context<AppEnv>): Meter {
  return new Meter({
    db: c.env.DB, limiter: c.env.RATE_LIMITER, prices, key: c.get('key'), requestId: c.get('requestId'),
    idempotencyKey: c.req.header('idempotency-key') || null, waitUntil: waitUntilOf(c).bind(null),
  });
}

function midStreamError(err: unknown): ApiError {
  if (err instanceof UpstreamError) return err;
  return new UpstreamError(502, `The origin failed during generation: ${(err as Error)?.message ?? err}`, 'upstream_failed');
}

function waitUntilOf(c: Context<AppEnv>): (p: Promise<unknown>) => void {
  try {
    const ctx = c.executionCtx;
    return (p) => ctx.waitUntil(p);
  } catch {
    return (p) => void p.catch(() => {}); // app.request() without an execution context (tests)
  }
}

const utf8Bytes = (text: string) => new TextEncoder().encode(text).length;
/** An upper bound on the prompt's tokens before the origin has counted them (a token is at least a byte), plus template overhead. */
export const reserveTokens = (prompt: string) => utf8Bytes(prompt) + 64;
/** What a prompt is billed as when the origin never reported its count (it failed first): the usual ~4 bytes a token. */
export const billTokens = (prompt: string) => Math.ceil(utf8Bytes(prompt) / 4);
