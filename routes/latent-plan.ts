// The prompt cache of an MLA edge model (the DeepSeek engine): the KV lookup of latent blocks
// (dispatch/latent-cache.ts) and, for a model whose registry entry has a `prefill` tier, the hand-off of
// a long uncached prompt to a prefill origin (dispatch/edge-handoff.ts), whose blocks are restored here
// and stored in KV after the response. `x-prefilled-by` says who computed a prompt the tier could have:
// the origin's name, or `edge` when the edge prefilled it (too short, or no origin delivered).
import type { Context } from 'hono';
import type { Dispatcher } from '../dispatch/dispatcher';
import { prefillAtOrigin, wantsHandoff } from '../dispatch/edge-handoff';
import { lookupLatent, storeEntries, type LatentScope } from '../dispatch/latent-cache';
import type { PromptCacheIo, PromptCacheUse } from '../dispatch/prompt-cache';
import type { AppEnv } from './env';
import type { GenerationPlan } from './generation';

/** Tokens of the prompt whose ids pick the prefill origin (prefix affinity: about two blocks). */
const AFFINITY_TOKENS = 128;

export async function openLatentCache(
  c: Context<AppEnv>,
  dispatcher: Dispatcher,
  io: PromptCacheIo,
  scope: LatentScope,
  plan: GenerationPlan,
): Promise<PromptCacheUse> {
  const lookup = await lookupLatent(io, scope, plan.promptIds);
  const use: PromptCacheUse = {
    hitTokens: lookup.hitTokens,
    restore: [],
    latents: lookup.rows,
    timing: lookup.timing,
  };
  const entry = dispatcher.registry(c.env).get(scope.modelId);
  const tier = entry?.placement === 'edge' ? entry.prefill : undefined;
  if (!tier || !wantsHandoff(tier, plan.promptIds.length, lookup.hitTokens)) return use;
  const handed = await prefillAtOrigin({
    d: dispatcher,
    tier,
    env: c.env,
    requestId: plan.requestId,
    waitUntil: io.waitUntil,
    signal: c.req.raw.signal,
    scope,
    promptIds: plan.promptIds,
    promptText: plan.promptIds.slice(0, AFFINITY_TOKENS).join(' '),
    lookup,
  });
  c.res.headers.set('x-prefilled-by', handed?.by ?? 'edge');
  if (!handed) return use;
  storeEntries(io, handed.entries);
  return { ...use, latents: handed.rows, handoff: { by: handed.by } };
}
