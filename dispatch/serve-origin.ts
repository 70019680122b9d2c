// One origin pool serves a generation: pick its origins (health, prefix affinity, load), admit and
// reserve at the model's price, relay the first origin that produces a token, bill what the origin
// reports. A pool that cannot answer returns its error, for placement.ts to try the next fallback.
import { countsOf } from '../billing/wire';
import type { ApiError } from '../protocol/errors';
import type { Head } from '../protocol/frames';
import { replayStream } from '../protocol/replay';
import type { Dispatcher } from './dispatcher';
import { unavailable } from './fallback';
import { chooseWithRoles } from './pd-choice';
import {
  originEndpoints,
  originHead,
  billTokens,
  reserveTokens,
  secretOf,
  type OriginCall,
  type PlacementRequest,
} from './origin-call';
import { answerBody, answerJson, jsonResponse, midStreamError, servedHeaders } from './origin-json';
import { originName, type OriginPool } from './registry';
import { relayResponse, type RelayContext, type RelayResult, type RelayStatus } from './relay';
import { openUpstream, type OpenedUpstream, type UpstreamRequest } from './upstream';

/** Reserved for a request that names no max_tokens on a pool that sets no max_output_tokens (DeepSeek's chat default). */
const DEFAULT_RESERVED_TOKENS = 4096;

/** A completed answer as the ledger keeps it for idempotent replays: with its head and request id. */
type StoredRelayResult = RelayResult & { head?: Head; requestId?: string };

/** The pool's answer, or why it gave none (`admitted`: a reservation was made and must be released). */
export type PoolOutcome = { response: Response } | { error: ApiError; admitted: boolean };

export async function serveOrigin(
  d: Dispatcher,
  req: PlacementRequest,
  pool: OriginPool,
  call: OriginCall,
): Promise<PoolOutcome> {
  const secret = pool.auth ? secretOf(req.env, pool.auth.secret) : undefined;
  const { choice, headers: roleHeaders } = chooseWithRoles(d, pool, call.prompt, {
    waitUntil: req.waitUntil,
    secret,
  });
  if (!choice.ok) return { error: unavailable(pool, choice), admitted: false };

  const endpoint = originEndpoints[call.endpoint];
  const head = originHead(call, req.requestId, call.shownAs ?? pool.id, pool);
  const headers: Record<string, string> = {
    'x-request-id': req.requestId,
    'x-served-model': pool.id,
  };
  // Without either, the origin's default applies (it fits the prompt's room), and this is reserved.
  const sentMax = call.maxTokens ?? pool.max_output_tokens;
  const maxTokens = sentMax ?? DEFAULT_RESERVED_TOKENS;
  const meter = req.meter;
  const stored = await meter?.admit({
    endpoint: call.endpoint,
    model: pool.id,
    placement: 'origin',
    servedBy: `origin:${originName(choice.order[0])}`,
    promptTokens: reserveTokens(call.prompt),
    // Every choice (`n`) may produce as many.
    maxTokens: maxTokens * (typeof call.request.n === 'number' ? call.request.n : 1),
    request: call.request,
  });
  if (stored) {
    // A completed generation stored under the idempotency key, answered again in the caller's form.
    const result = JSON.parse(stored) as StoredRelayResult;
    // The first answer again: its id and created; this request keeps its own x-request-id.
    const replayed = {
      ...headers,
      'idempotent-replayed': 'true',
      ...(result.requestId ? { 'original-request': result.requestId } : {}),
    };
    const shapes = endpoint.shapes(result.head ?? head, call.includeUsage);
    return {
      response: call.stream
        ? replayStream(result, shapes, call.includeUsage, replayed)
        : jsonResponse(answerBody(shapes, result), replayed, result.usage),
    };
  }

  const upstream: UpstreamRequest = {
    ...upstreamRequest(req, pool, call, sentMax, secret),
    headers: roleHeaders,
  };
  // A stream the Worker need not read (relay-piped.ts) unless it keeps the text for an idempotent
  // replay. An origin that writes one splits a think block itself and holds every choice's finish
  // to the end; one that cannot sends an ordinary stream, read frame by frame.
  if (call.stream && !meter?.replays)
    upstream.relayHead = {
      key: crypto.randomUUID(),
      id: head.id,
      model: head.model,
      created: head.created,
      system_fingerprint: head.system_fingerprint,
      include_usage: call.includeUsage,
    };
  const started = Date.now();
  let up: OpenedUpstream;
  try {
    up = await openUpstream(choice.order, upstream, d.health);
  } catch (err) {
    return { error: err as ApiError, admitted: true };
  }
  const ctx: RelayContext = {
    id: head.id,
    created: head.created,
    model: head.model,
    fingerprint: head.system_fingerprint,
    object: endpoint.chunkObject,
    includeUsage: call.includeUsage,
    reasoning: call.reasoning === true,
    promptEstimate: billTokens(call.prompt),
    latency: req.latency,
    waitUntil: req.waitUntil,
    settle: (status: RelayStatus, result: RelayResult) => {
      // The Worker's own measure of what the client saw (an origin's timing is not passed on):
      // in the answer's usage, in the ledger, and in a replay (the first answer again).
      if (req.latency) result.usage.timing = req.latency.finish(result.usage.completion_tokens);
      const replay = (cost: RelayResult['usage']['cost']) =>
        JSON.stringify({
          ...result,
          usage: { ...result.usage, cost },
          head,
          requestId: req.requestId,
        } satisfies StoredRelayResult);
      return meter
        ? meter.finish({ status, ...countsOf(result.usage), timing: result.usage.timing, replay })
        : Promise.resolve(undefined);
    },
  };
  if (call.stream)
    return {
      response: relayResponse(up, ctx, (err) => midStreamError(err).toJSON(), {
        ...headers,
        ...servedHeaders(up),
      }),
    };
  const body = (r: RelayResult) => answerBody(endpoint.shapes(head, false), r);
  const answer = { ctx, headers, started, body, signal: req.signal };
  return { response: await answerJson(d, up, choice.order, upstream, answer) };
}

/** The body sent to the origin: the client's request, streamed with usage (a JSON answer is assembled here), the tenant's cache salt. */
function upstreamRequest(
  req: PlacementRequest,
  pool: OriginPool,
  call: OriginCall,
  maxTokens: number | undefined,
  secret?: string,
): UpstreamRequest {
  const body: Record<string, unknown> = {
    ...call.request,
    model: pool.upstream_model ?? pool.id,
    ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
    stream: true,
    stream_options: { include_usage: true, continuous_usage_stats: true },
  };
  delete body.max_completion_tokens;
  // top_p 0 is greedy (protocol/sampling.ts); vLLM and SGLang refuse it (their top_p is in (0, 1]).
  if (body.top_p === 0) {
    body.temperature = 0;
    delete body.top_p;
  }
  // A reasoning alias of a plain model: the origin's template opens the think block when told to.
  if (call.reasoning && body.thinking === undefined) body.thinking = { type: 'enabled' };
  // The prefix-cache namespace is the tenant's, never the client's choice: a client's `cache_salt`
  // (unknown fields pass validation) would let it read another tenant's cached prefixes on a vLLM
  // origin, which honours the field. Ours replaces it on every request, header and body alike.
  body.cache_salt = req.tenantSalt;
  return {
    pool,
    path: originEndpoints[call.endpoint].path,
    body,
    requestId: req.requestId,
    salt: req.tenantSalt,
    secret,
    signal: req.signal,
  };
}
