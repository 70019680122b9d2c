// The routes' one entry into dispatch: a generation is served on its model's placement. An origin
// model is answered by its origin pool (serve-origin.ts); when no origin of it can answer, its
// fallbacks are tried in order (the answer names the model that gave it and is billed at that
// model's price); an edge model, or an edge fallback, goes back to the route, which runs it.
import type { Dispatcher } from './dispatcher';
import { fallbackTarget, nextFallback } from './fallback';
import type { OriginCall, PlacementRequest } from './origin-call';
import type { OriginPool } from './registry';
import { serveOrigin } from './serve-origin';
import { UpstreamError } from './upstream';

export type { OriginCall, PlacementRequest } from './origin-call';
export { chatPromptText } from './origin-call';

/** What a generation route does next: return the origin's answer, or run this edge model (with headers saying why). */
export type Placed = { response: Response } | { model: string; headers: Record<string, string> };

export async function serveOnPlacement(
  d: Dispatcher,
  req: PlacementRequest,
  model: string,
  call: OriginCall,
): Promise<Placed> {
  const target = d.target(req.env, model);
  if (target.kind === 'edge') return { model, headers: { 'x-served-model': model } };
  let pool: OriginPool = target.pool;
  // Models tried so far, and the fallbacks to try: the requested model's, then those of any origin fallback.
  const tried = new Set<string>();
  let chain: readonly string[] = pool.fallbacks;
  for (;;) {
    tried.add(pool.id);
    const outcome = await serveOrigin(d, req, pool, call);
    if ('response' in outcome) {
      // Another origin pool in the fallback list answered.
      if (outcome.response.headers.get('x-served-model') !== model)
        outcome.response.headers.set('x-fallback-from', model);
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
      throw error;
    }
    console.warn(
      `request ${req.requestId}: ${pool.id} unavailable (${error.message}); falling back to ${next}`,
    );
    // Re-admitted for the next model at its price (by serveOrigin, or by the route for an edge model).
    await req.meter?.fallBack();
    const fallback = fallbackTarget(d.registry(req.env), next);
    if (fallback.kind === 'edge')
      return {
        model: fallback.id,
        headers: { 'x-served-model': fallback.id, 'x-fallback-from': model },
      };
    pool = fallback.pool;
    chain = [...chain, ...pool.fallbacks];
  }
}
