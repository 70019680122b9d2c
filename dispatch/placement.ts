// The routes' one entry into dispatch: a generation is served on its model's placement. An origin
// model is answered by its origin pool (serve-origin.ts); when no origin of it can answer, its
// fallbacks are tried in order (the answer names the model that gave it and is billed at that
// model's price); an edge model, or an edge fallback, goes back to the route, which runs it.
// A model name may be an alias (registry.ts): the answer shows the name the client sent, as
// DeepSeek's do, while `x-served-model` names the model that ran. A client may refuse fallbacks
// (`x-fallback: none`), as may the registry per model or alias (`fallback: false`).
import type { Dispatcher } from './dispatcher';
import { fallbackTarget, nextFallback } from './fallback';
import type { OriginCall, PlacementRequest } from './origin-call';
import { ApiError } from '../protocol/errors';
import { continuesPrefix, reasoningOn } from '../protocol/reasoning';
import type { ModelRegistry, OriginPool } from './registry';
import { serveOrigin } from './serve-origin';
import { UpstreamError } from './upstream';

export type { OriginCall, PlacementRequest } from './origin-call';
export { chatPromptText } from './origin-call';

/** What a generation route does next: return the origin's answer, or run this edge model (with headers saying why). */
export type Placed =
  | { response: Response }
  | {
      model: string;
      /** The name the answer shows in `model`. */
      shownAs: string;
      /** The answer opens with a think block (reasoning model, or the request's `thinking`). */
      reasoning: boolean;
      headers: Record<string, string>;
    };

/** A model as it runs for this request: its answers' name, and whether it reasons. */
function runAs(registry: ModelRegistry, name: string, call: OriginCall) {
  const named = registry.resolve(name);
  // a prefix completion is answered as content: the origin's prompt closes any think block
  const reasoning =
    call.endpoint === 'chat.completions' &&
    reasoningOn(named.reasoning, call.request.thinking) &&
    !continuesPrefix(call.request.messages);
  return { named, call: { ...call, shownAs: named.shownAs, reasoning } };
}

export async function serveOnPlacement(
  d: Dispatcher,
  req: PlacementRequest,
  model: string,
  call: OriginCall,
): Promise<Placed> {
  const registry = d.registry(req.env);
  const first = runAs(registry, model, call);
  const target = d.target(req.env, first.named.id);
  if (target.kind === 'edge') return edgePlaced(first.named.id, first.call, {});
  let pool: OriginPool = target.pool;
  let current = first.call;
  // Models tried so far, and the fallbacks to try: the requested model's, then those of any origin fallback.
  const tried = new Set<string>();
  const mayFallBack = first.named.fallback && !req.refuseFallback;
  let chain: readonly string[] = mayFallBack ? pool.fallbacks : [];
  for (;;) {
    tried.add(pool.id);
    const outcome = await serveOrigin(d, req, pool, current);
    if ('response' in outcome) {
      // Another origin pool in the fallback list answered.
      if (pool.id !== first.named.id) outcome.response.headers.set('x-fallback-from', model);
      return outcome;
    }
    const { error, admitted } = outcome;
    // A request the origin refused as wrong would be refused by any model.
    const refused = error instanceof UpstreamError && error.clientError;
    const next = refused ? null : nextFallback(chain, tried);
    if (next === null) {
      if (admitted)
        await req.meter?.finish({
          status: 'failed',
          promptTokens: 0,
          cachedTokens: 0,
          completionTokens: 0,
        });
      throw mayFallBack || refused || pool.fallbacks.length === 0 ? error : noFallback(error, req);
    }
    console.warn(
      `request ${req.requestId}: ${pool.id} unavailable (${error.message}); falling back to ${next}`,
    );
    // Re-admitted for the next model at its price (by serveOrigin, or by the route for an edge model).
    await req.meter?.fallBack();
    const fallback = fallbackTarget(registry, next);
    // A fallback answers under its own name: the client sees which model it got.
    current = runAs(registry, next, call).call;
    if (fallback.kind === 'edge')
      return edgePlaced(fallback.id, current, { 'x-fallback-from': model });
    pool = fallback.pool;
    chain = [...chain, ...pool.fallbacks];
  }
}

const edgePlaced = (
  model: string,
  call: OriginCall & { shownAs: string; reasoning: boolean },
  headers: Record<string, string>,
): Placed => ({
  model,
  shownAs: call.shownAs,
  reasoning: call.reasoning,
  headers: { 'x-served-model': model, ...headers },
});

/** The pool's error, saying why its fallbacks were not tried; a 503 keeps its retry-after. */
function noFallback(error: ApiError, req: PlacementRequest): ApiError {
  const why = req.refuseFallback
    ? 'the request refused them (x-fallback: none)'
    : 'the registry says fallback: false';
  return new ApiError(
    error.status,
    `${error.message} Its fallbacks were not tried: ${why}.`,
    error.type,
    error.code,
    error.param,
    error.retryAfter,
  );
}
