// An origin's answer as one JSON body: the relayed stream is collected whole, and since the client
// gets nothing before its end, an origin that fails midway is retried whole on the next one (its
// partial work is not billed: nothing of it was delivered). A client that goes away ends the
// upstream request (its signal) and pays for what the origin produced until then, as a disconnected
// stream does. Also the headers of an origin's answer.
import { costHeaders } from '../billing/wire';
import type { ApiError } from '../protocol/errors';
import type { Shapes } from '../protocol/frames';
import type { Usage } from '../protocol/usage';
import type { Dispatcher } from './dispatcher';
import { collect, type RelayContext, type RelayResult } from './relay';
import { openUpstream, UpstreamError, type OpenedUpstream, type UpstreamRequest } from './upstream';

/** A JSON answer with its cost headers (as Hono's `c.json` would send it). */
export const jsonResponse = (
  body: object,
  headers: Record<string, string>,
  usage: Usage,
): Response =>
  new Response(JSON.stringify(body), {
    status: 200,
    headers: { 'content-type': 'application/json', ...headers, ...costHeaders(usage) },
  });

/** Who answered: the origin, its first-token time, how many origins were tried, what its cache hit. */
export const servedHeaders = (up: OpenedUpstream): Record<string, string> => ({
  'x-served-by': up.served,
  'x-upstream-first-token-ms': String(up.firstTokenMs),
  'x-upstream-attempts': String(up.attempts),
  ...(up.headers.get('x-cache-hit-tokens')
    ? { 'x-cache-hit-tokens': up.headers.get('x-cache-hit-tokens')! }
    : {}),
});

/** The JSON answer: the origin's choices as assembled (every one, with tool calls and logprobs), or a stored result's. */
export const answerBody = (shapes: Shapes, r: RelayResult): object => {
  const body = shapes.body(r.choices ?? [r], r.usage);
  return r.body ? { ...body, choices: r.body } : body;
};

export function midStreamError(err: unknown): ApiError {
  if (err instanceof UpstreamError) return err;
  return new UpstreamError(
    502,
    `The origin failed during generation: ${(err as Error)?.message ?? err}`,
    'upstream_failed',
  );
}

const nothing: RelayResult = {
  text: '',
  reasoning: '',
  finishReason: 'stop',
  usage: {
    prompt_tokens: 0,
    completion_tokens: 0,
    total_tokens: 0,
    prompt_cache_hit_tokens: 0,
    prompt_cache_miss_tokens: 0,
    prompt_tokens_details: { cached_tokens: 0 },
  },
};

interface JsonAnswer {
  ctx: RelayContext;
  headers: Record<string, string>;
  started: number;
  body: (r: RelayResult) => object;
  signal: AbortSignal;
}

/** Collects `up` whole, retrying the rest of `order` when it fails midway; settles exactly once. */
export async function answerJson(
  d: Dispatcher,
  up: OpenedUpstream,
  order: readonly OpenedUpstream['origin'][],
  req: UpstreamRequest,
  { ctx, headers, started, body, signal }: JsonAnswer,
): Promise<Response> {
  const failed = () => ctx.settle('failed', { ...nothing, usage: { ...nothing.usage } });
  let attempts = up.attempts;
  for (;;) {
    let result: RelayResult & { abandoned?: true };
    try {
      result = await collect(up, ctx, signal);
    } catch (err) {
      const rest = order.slice(order.indexOf(up.origin) + 1);
      if (rest.length === 0 || signal.aborted) {
        await failed();
        throw midStreamError(err);
      }
      up = await openUpstream(rest, req, d.health).catch(async (e) => {
        await failed();
        throw e;
      });
      attempts += up.attempts;
      // The answer is the retry's: its tokens are timed from their own first one.
      ctx.latency?.restart();
      continue;
    }
    // Nobody reads the answer of a client that went away; it pays for what was produced for it.
    const cost = await ctx.settle(result.abandoned ? 'disconnected' : 'completed', result);
    delete result.abandoned;
    if (cost) result.usage.cost = cost;
    return jsonResponse(
      body(result),
      {
        ...headers,
        ...servedHeaders(up),
        'x-upstream-attempts': String(attempts),
        'x-upstream-latency-ms': String(Date.now() - started),
        'x-cache-hit-tokens': String(result.usage.prompt_cache_hit_tokens),
      },
      result.usage,
    );
  }
}
