// From a validated request to a GenerationRequest: encode the prompt, check that prompt + max_tokens
// fit the context (the same errors as the Worker's routes/plan.ts), map the sampling fields, and name
// the prompt's blocks for the prefix cache under the tenant's salt.
import type { SamplingOptions } from '../../engine/sampling/options';
import { contextLengthExceeded, invalidRequest } from '../../protocol/errors';
import type { OriginTokenizer } from '../model/byte-tokenizer';
import { promptBlockKeys } from '../scheduler/prefix-cache';
import type { GenerationRequest } from '../scheduler/sequence';

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
  /** Extension: false neither restores nor stores prefix-cache blocks. */
  cache?: boolean | null;
  stop?: string | string[] | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean | null } | null;
  /** Extension (vLLM's name): keep sampling past EOS, for benchmarks that need a fixed length. */
  ignore_eos?: unknown;
}

export async function planGeneration(
  ctx: { tokenizer: OriginTokenizer; maxSeqLen: number; vocabSize: number; modelId: string; weightsDigest: string },
  prompt: string,
  fields: SamplingFields,
  defaultMaxTokens: number | 'context',
  promptParam: string,
  tenantSalt: string,
): Promise<{ request: GenerationRequest; includeUsage: boolean }> {
  const promptIds = ctx.tokenizer.encode(prompt);
  if (promptIds.length === 0) throw invalidRequest('The prompt must not be empty.', promptParam);
  const context = ctx.maxSeqLen;
  if (promptIds.length >= context) throw contextLengthExceeded(context, promptIds.length, promptParam);
  const room = context - promptIds.length;
  const maxTokens = fields.max_tokens ?? (defaultMaxTokens === 'context' ? room : Math.min(defaultMaxTokens, room));
  if (maxTokens > room) throw contextLengthExceeded(context, promptIds.length + maxTokens, 'max_tokens');
  const stop = fields.stop == null ? [] : typeof fields.stop === 'string' ? [fields.stop] : fields.stop;
  if (stop.some((s) => s.length > 256)) throw invalidRequest('Each stop sequence must be at most 256 characters.', 'stop');
  if (fields.ignore_eos !== undefined && typeof fields.ignore_eos !== 'boolean') throw invalidRequest("Invalid value for 'ignore_eos': expected a boolean", 'ignore_eos');
  return {
    request: {
      promptIds,
      maxTokens,
      sampling: samplingOptions(fields, ctx.vocabSize),
      stop,
      ignoreEos: fields.ignore_eos === true,
      blockKeys: fields.cache === false ? [] : await promptBlockKeys({ tenantSalt, modelId: ctx.modelId, weightsDigest: ctx.weightsDigest }, promptIds),
    },
    includeUsage: fields.stream_options?.include_usage === true,
  };
}

/** The sampling fields as the engine's options (as routes/plan.ts maps them for edge models). */
function samplingOptions(f: SamplingFields, vocabSize: number): SamplingOptions {
  const bias = f.logit_bias ?? {};
  const bad = Object.keys(bias).find((id) => Number(id) >= vocabSize);
  if (bad !== undefined) throw invalidRequest(`logit_bias names token ${bad}, outside the vocabulary (${vocabSize}).`, 'logit_bias');
  if (f.top_logprobs != null && f.logprobs !== true) throw invalidRequest('top_logprobs requires logprobs to be true.', 'top_logprobs');
  const logprobs = typeof f.logprobs === 'number' ? f.logprobs : f.logprobs === true ? (f.top_logprobs ?? 0) : undefined;
  return {
    temperature: f.temperature ?? 1,
    topP: f.top_p ?? 1,
    seed: f.seed ?? undefined,
    topK: f.top_k ?? undefined,
    minP: f.min_p ?? undefined,
    presencePenalty: f.presence_penalty ?? undefined,
    frequencyPenalty: f.frequency_penalty ?? undefined,
    logitBias: Object.keys(bias).length ? Object.fromEntries(Object.entries(bias).map(([id, b]) => [Number(id), b])) : undefined,
    logprobs,
  };
}
