// From a validated request to a generation plan: resolve the model, encode the prompt, check that
// prompt + max_tokens fit the context, and map the sampling fields onto the engine's options; then
// look the prompt up in the prompt cache (dispatch/prompt-cache.ts).
import type { Context } from 'hono';
import type { EdgeModel } from '../dispatch/edge-registry';
import { promptCacheSettings } from '../dispatch/prompt-cache';
import { kvShapeOf } from '../engine/index';
import { contextLengthExceeded, invalidRequest } from '../protocol/errors';
import type { AppEnv } from './env';
import type { GenerationPlan } from './generation';

export interface SamplingFields {
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  seed?: number | null;
  stop?: string | string[] | null;
  stream_options?: { include_usage?: boolean | null } | null;
}

export function makePlan(
  model: EdgeModel,
  prompt: string,
  fields: SamplingFields,
  defaultMaxTokens: number | 'context',
  requestId: string,
  promptParam: string,
): GenerationPlan {
  const { engine } = model;
  const promptIds = engine.tokenizer.encode(prompt, { bos: true, eos: false });
  const context = engine.config.seqLen;
  if (promptIds.length >= context) throw contextLengthExceeded(context, promptIds.length, promptParam);
  const room = context - promptIds.length;
  const requested = fields.max_tokens ?? (defaultMaxTokens === 'context' ? room : Math.min(defaultMaxTokens, room));
  if (requested > room) throw contextLengthExceeded(context, promptIds.length + requested, 'max_tokens');
  const stop = fields.stop == null ? [] : typeof fields.stop === 'string' ? [fields.stop] : fields.stop;
  if (stop.some((s) => s.length > 256)) throw invalidRequest('Each stop sequence must be at most 256 characters.', 'stop');
  return {
    engine,
    promptIds,
    options: {
      maxTokens: requested,
      temperature: fields.temperature ?? 1,
      topP: fields.top_p ?? 1,
      seed: fields.seed ?? undefined,
      stop,
    },
    includeUsage: fields.stream_options?.include_usage === true,
    requestId,
  };
}

/** The salt of the caller's prompt-cache keys: its account's, so tenants never share entries. */
export const tenantSaltOf = (c: Context<AppEnv>): string => c.get('key').tenantSalt;

function waitUntilOf(c: Context<AppEnv>): (p: Promise<unknown>) => void {
  try {
    const ctx = c.executionCtx;
    return (p) => ctx.waitUntil(p);
  } catch {
    return () => {}; // app.request() without an execution context (tests): the promise still runs.
  }
}

/**
 * Restores what the prompt cache holds of the plan's prompt and arranges for the rest to be stored
 * after the response. Off when the request says `cache: false`, without a PROMPT_CACHE binding, or
 * with PROMPT_CACHE_CODEC=off.
 */
export async function attachPromptCache(c: Context<AppEnv>, plan: GenerationPlan, model: EdgeModel, requested: boolean | null | undefined): Promise<void> {
  const kv = c.env.PROMPT_CACHE;
  const settings = promptCacheSettings(c.env);
  if (requested === false || !kv || !settings) return;
  const scope = { tenantSalt: tenantSaltOf(c), modelId: model.manifest.id, weightsDigest: model.weightsDigest, shape: kvShapeOf(model.engine.config) };
  plan.promptCache = await model.promptCache.open({ kv, settings, waitUntil: waitUntilOf(c) }, scope, plan.promptIds);
}
