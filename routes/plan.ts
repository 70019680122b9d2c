// From a validated request to a generation plan: resolve the model, encode the prompt, check that
// prompt + max_tokens fit the context, and map the sampling fields onto the engine's options; then
// look the prompt up in the prompt cache (dispatch/prompt-cache.ts).
import type { Context } from 'hono';
import type { EdgeModel } from '../dispatch/edge-registry';
import type { Dispatcher } from '../dispatch/dispatcher';
import { openLatentCache } from './latent-plan';
import { promptCacheSettings } from '../dispatch/prompt-cache';
import { BLOCK_TOKENS, cacheableBlocks } from '../engine/prompt-cache/blocks';
import { invalidRequest } from '../protocol/errors';
import {
  includeUsageOf,
  normalizeStops,
  promptTokenIds,
  resolveMaxTokens,
  samplingOptionsOf,
  type SamplingFields,
} from '../protocol/sampling';
import { waitUntilOf } from './context';
import type { AppEnv } from './env';
import type { GenerationPlan } from './generation';

export type { SamplingFields };

export function makePlan(
  model: EdgeModel,
  /** Text, encoded here; or token ids, fed as they are. */
  prompt: string | readonly number[],
  fields: SamplingFields,
  defaultMaxTokens: number | 'context',
  requestId: string,
  promptParam: string,
  /** bos false: the prompt was rendered by a chat template, which writes its own BOS. */
  encode: { bos: boolean } = { bos: true },
): GenerationPlan {
  const { engine } = model;
  const promptIds =
    typeof prompt === 'string'
      ? engine.tokenizer.encode(prompt, { bos: encode.bos, eos: false })
      : promptTokenIds(prompt, engine.config.vocabSize, promptParam);
  if (promptIds.length === 0) throw invalidRequest('The prompt encodes to no tokens.', promptParam);
  const maxTokens = resolveMaxTokens(
    engine.config.seqLen,
    promptIds.length,
    fields,
    defaultMaxTokens,
    promptParam,
  );
  const stop = normalizeStops(fields.stop);
  return {
    engine,
    promptIds,
    options: { maxTokens, ...samplingOptionsOf(fields, engine.config.vocabSize), stop },
    includeUsage: includeUsageOf(fields),
    requestId,
  };
}

/** The salt of the caller's prompt-cache keys: its account's, so tenants never share entries. */
export const tenantSaltOf = (c: Context<AppEnv>): string => c.get('key').tenantSalt;

/**
 * Restores what the prompt cache holds of the plan's prompt and arranges for the rest to be stored
 * after the response; the lookup's time goes into a Server-Timing header. Off when the request says `cache: false`, without a PROMPT_CACHE binding, or
 * with PROMPT_CACHE_CODEC=off.
 */
export async function attachPromptCache(
  c: Context<AppEnv>,
  plan: GenerationPlan,
  model: EdgeModel,
  requested: boolean | null | undefined,
  dispatcher: Dispatcher,
): Promise<void> {
  const kv = c.env.PROMPT_CACHE;
  const settings = promptCacheSettings(c.env);
  if (requested === false || !kv || !settings) return;
  const io = { kv, settings, waitUntil: waitUntilOf(c) };
  const seed = {
    tenantSalt: tenantSaltOf(c),
    modelId: model.manifest.id,
    weightsDigest: model.weightsDigest,
  };
  if (model.latentShape)
    plan.promptCache = await openLatentCache(
      c,
      dispatcher,
      io,
      { ...seed, latent: model.latentShape },
      plan,
    );
  else if (model.kvShape)
    plan.promptCache = await model.promptCache.open(
      io,
      { ...seed, shape: model.kvShape },
      plan.promptIds,
    );
  else return;
  const t = plan.promptCache.timing;
  // On c.res, not c.header(): a stream is a fresh Response, and Hono carries c.res's headers over to it.
  if (t)
    c.res.headers.append(
      'server-timing',
      `pc-hash;dur=${t.hashMs.toFixed(1)}, pc-read;dur=${t.kvReadMs.toFixed(1)};desc="prompt cache: KV read", pc-decode;dur=${t.decodeMs.toFixed(1)}`,
    );
}

/**
 * The prompt's counts before the body (a stream's usage comes last), for the Anthropic route's
 * message_start: prompt tokens, those restored, and those this request stores in the prompt cache
 * (the whole 64-token blocks it computes; dispatch/prompt-cache.ts captures exactly those).
 */
export function promptHeaders(plan: GenerationPlan): Record<string, string> {
  const hit = plan.promptCache?.hitTokens ?? 0;
  const blocks = cacheableBlocks(plan.promptIds.length) - Math.ceil(hit / BLOCK_TOKENS);
  const stored = plan.promptCache?.capture ? Math.max(0, blocks) * BLOCK_TOKENS : 0;
  return {
    'x-prompt-tokens': String(plan.promptIds.length),
    'x-prompt-cache-hit-tokens': String(hit),
    'x-prompt-cache-store-tokens': String(stored),
  };
}
