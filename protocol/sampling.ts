// The sampling fields of a chat/text completion request, from the wire to the engine's options: the
// checks and mapping that the Worker's routes/plan.ts and the origin's origin/server/plan.ts share.
// Pure functions, no Node-only imports: this runs in workerd too.
import type { SamplingOptions } from '../engine/sampling/options';
import { contextLengthExceeded, invalidRequest } from './errors';

/** The OpenAI/DeepSeek request fields that shape one generation. */
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

/**
 * The tokens to generate: `max_tokens`, or the default capped at the room the prompt leaves
 * ('context': all of it). A prompt that fills the context is the prompt's error (`promptParam`);
 * a max_tokens beyond the room is max_tokens'.
 */
export function resolveMaxTokens(
  context: number,
  promptLength: number,
  fields: Pick<SamplingFields, 'max_tokens'>,
  defaultMaxTokens: number | 'context',
  promptParam: string,
): number {
  if (promptLength >= context) throw contextLengthExceeded(context, promptLength, promptParam);
  const room = context - promptLength;
  const maxTokens =
    fields.max_tokens ?? (defaultMaxTokens === 'context' ? room : Math.min(defaultMaxTokens, room));
  if (maxTokens > room)
    throw contextLengthExceeded(context, promptLength + maxTokens, 'max_tokens');
  return maxTokens;
}

/** A prompt given as token ids, checked against the model's vocabulary. */
export function promptTokenIds(ids: readonly number[], vocabSize: number, param: string): number[] {
  const bad = ids.find((id) => id >= vocabSize);
  if (bad !== undefined)
    throw invalidRequest(
      `Invalid value for '${param}': token ${bad} is outside the model's vocabulary (${vocabSize} tokens).`,
      param,
    );
  return [...ids];
}

/** `stop` as a list (absent: none); each string at most 256 characters. */
export function normalizeStops(stop: SamplingFields['stop']): string[] {
  const stops = stop == null ? [] : typeof stop === 'string' ? [stop] : stop;
  if (stops.some((s) => s.length > 256))
    throw invalidRequest('Each stop sequence must be at most 256 characters.', 'stop');
  return stops;
}

/** The sampling fields as the engine's options; top_k, min_p, penalties, logit_bias and logprobs are off when absent. */
export function samplingOptionsOf(f: SamplingFields, vocabSize: number): SamplingOptions {
  const bias = f.logit_bias ?? {};
  const bad = Object.keys(bias).find((id) => Number(id) >= vocabSize);
  if (bad !== undefined)
    throw invalidRequest(
      `logit_bias names token ${bad}, outside the vocabulary (${vocabSize}).`,
      'logit_bias',
    );
  if (f.top_logprobs != null && f.logprobs !== true)
    throw invalidRequest('top_logprobs requires logprobs to be true.', 'top_logprobs');
  const logprobs =
    typeof f.logprobs === 'number'
      ? f.logprobs
      : f.logprobs === true
        ? (f.top_logprobs ?? 0)
        : undefined;
  return {
    // OpenAI takes top_p 0 as a nucleus of one token: the most likely, so greedy at any temperature
    // (the engine's samplers read topP 0 as llama2.c does, "off").
    temperature: f.top_p === 0 ? 0 : (f.temperature ?? 1),
    topP: f.top_p ?? 1,
    seed: f.seed ?? undefined,
    topK: f.top_k ?? undefined,
    minP: f.min_p ?? undefined,
    presencePenalty: f.presence_penalty ?? undefined,
    frequencyPenalty: f.frequency_penalty ?? undefined,
    logitBias: Object.keys(bias).length
      ? Object.fromEntries(Object.entries(bias).map(([id, b]) => [Number(id), b]))
      : undefined,
    logprobs,
  };
}

/** Whether a stream ends with a usage chunk (`stream_options.include_usage`). */
export const includeUsageOf = (f: Pick<SamplingFields, 'stream_options'>): boolean =>
  f.stream_options?.include_usage === true;
