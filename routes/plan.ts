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
  top_k?: number | null;
  min_p?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  logit_bias?: Record<string, number> | null;
  /** Chat: a boolean (with top_logprobs); completions: the number of alternatives. */
  logprobs?: boolean | number | null;
  top_logprobs?: number | null;
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
  /** bos false: the prompt was rendered by a chat template, which writes its own BOS. */
  encode: { bos: boolean } = { bos: true },
): GenerationPlan {
  const { engine } = model;
  const promptIds = engine.tokenizer.encode(prompt, { bos: encode.bos, eos: false });
  if (promptIds.length === 0) throw invalidRequest('The prompt encodes to no tokens.', promptParam);
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
      ...samplingExtras(fields, engine.config.vocabSize),
      stop,
    },
    includeUsage: fields.stream_options?.include_usage === true,
    requestId,
  };
}

/** top_k, min_p, penalties, logit_bias and logprobs onto the engine's options (off when absent). */
function samplingExtras(f: SamplingFields, vocabSize: number) {
  const bias = f.logit_bias ?? {};
  const bad = Object.keys(bias).find((id) => Number(id) >= vocabSize);
  if (bad !== undefined) throw invalidRequest(`logit_bias names token ${bad}, outside the vocabulary (${vocabSize}).`, 'logit_bias');
  if (f.top_logprobs != null && f.logprobs !== true) throw invalidRequest('top_logprobs requires logprobs to be true.', 'top_logprobs');
  const logprobs = typeof f.logprobs === 'number' ? f.logprobs : f.logprobs === true ? (f.top_logprobs ?? 0) : undefined;
  return {
    topK: f.top_k ?? undefined,
    minP: f.min_p ?? undefined,
    presencePenalty: f.presence_penalty ?? undefined,
    frequencyPenalty: f.frequency_penalty ?? undefined,
    logitBias: Object.keys(bias).length ? Object.fromEntries(Object.entries(bias).map(([id, b]) => [Number(id), b])) : undefined,
    logprobs,
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
 * after the response; the lookup's time goes into a Server-Timing header. Off when the request says `cache: false`, without a PROMPT_CACHE binding, or
 * with PROMPT_CACHE_CODEC=off.
 */
export async function attachPromptCache(c: Context<AppEnv>, plan: GenerationPlan, model: EdgeModel, requested: boolean | null | undefined): Promise<void> {
  const kv = c.env.PROMPT_CACHE;
  const settings = promptCacheSettings(c.env);
  if (requested === false || !kv || !settings) return;
  const scope = { tenantSalt: tenantSaltOf(c), modelId: model.manifest.id, weightsDigest: model.weightsDigest, shape: kvShapeOf(model.engine.config) };
  plan.promptCache = await model.promptCache.open({ kv, settings, waitUntil: waitUntilOf(c) }, scope, plan.promptIds);
  const t = plan.promptCache.timing;
  // On c.res, not c.header(): a stream is a fresh Response, and Hono carries c.res's headers over to it.
  if (t) c.res.headers.append('server-timing', `pc-hash;dur=${t.hashMs.toFixed(1)}, pc-read;dur=${t.kvReadMs.toFixed(1)};desc="prompt cache: KV read", pc-decode;dur=${t.decodeMs.toFixed(1)}`);
}
