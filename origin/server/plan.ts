// From a validated request to a GenerationRequest: render a chat with the model's template, encode the
// prompt, check that prompt + max_tokens fit the context and map the sampling fields
// (protocol/sampling.ts, shared with the Worker's routes/plan.ts), and name the prompt's blocks for the
// prefix cache under the tenant's salt.
import { renderToolChat } from '../../protocol/chat-prompt';
import { invalidRequest } from '../../protocol/errors';
import type { ChatMessage } from '../../protocol/requests';
import {
  includeUsageOf,
  normalizeStops,
  promptTokenIds,
  resolveMaxTokens,
  samplingOptionsOf,
  type SamplingFields as WireSamplingFields,
} from '../../protocol/sampling';
import type { ToolDefinitionT } from '../../protocol/tool-requests';
import type { OriginTokenizer } from '../model/byte-tokenizer';
import { promptBlockKeys } from '../scheduler/prefix-cache';
import type { GenerationRequest } from '../scheduler/sequence';

/** The shared sampling fields (protocol/sampling.ts) and the origin's extensions. */
export interface SamplingFields extends WireSamplingFields {
  /** Extension: false neither restores nor stores prefix-cache blocks. */
  cache?: boolean | null;
  stream?: boolean | null;
  /** Extension (vLLM's name): keep sampling past EOS, for benchmarks that need a fixed length. */
  ignore_eos?: unknown;
}

/**
 * A chat's prompt: the model's template (it writes BOS), else the plain template (BOS from encode).
 * Tools, prefix completion and DeepSeek's thinking switch are rendered as the Worker renders them
 * (protocol/chat-prompt.ts); the think block is split off as reasoning_content by think.ts.
 */
export function chatPrompt(
  tokenizer: OriginTokenizer,
  messages: ChatMessage[],
  thinking?: 'enabled' | 'disabled',
  tools: ToolDefinitionT[] = [],
): { text: string; bos: boolean; reasoning: boolean } {
  const template = tokenizer.chatTemplate;
  const { prompt, reasoning } = renderToolChat(template, messages, tools, {
    thinking,
    reasoning: thinking === 'enabled',
  });
  return { text: prompt, bos: template === null, reasoning };
}

export async function planGeneration(
  ctx: {
    tokenizer: OriginTokenizer;
    maxSeqLen: number;
    vocabSize: number;
    modelId: string;
    weightsDigest: string;
  },
  /** Text, encoded here; or token ids, fed as they are. */
  prompt: string | readonly number[],
  fields: SamplingFields,
  defaultMaxTokens: number | 'context',
  promptParam: string,
  tenantSalt: string,
  /** False for a chat template's text: the template writes its own BOS. */
  bos = true,
): Promise<{ request: GenerationRequest; includeUsage: boolean }> {
  const promptIds =
    typeof prompt === 'string'
      ? await ctx.tokenizer.encodeAsync(prompt, { bos })
      : promptTokenIds(prompt, ctx.vocabSize, promptParam);
  if (promptIds.length === 0) throw invalidRequest('The prompt must not be empty.', promptParam);
  const maxTokens = resolveMaxTokens(
    ctx.maxSeqLen,
    promptIds.length,
    fields,
    defaultMaxTokens,
    promptParam,
  );
  const stop = normalizeStops(fields.stop);
  if (fields.ignore_eos !== undefined && typeof fields.ignore_eos !== 'boolean')
    throw invalidRequest("Invalid value for 'ignore_eos': expected a boolean", 'ignore_eos');
  return {
    request: {
      promptIds,
      maxTokens,
      sampling: samplingOptionsOf(fields, ctx.vocabSize),
      stop,
      ignoreEos: fields.ignore_eos === true,
      blockKeys:
        fields.cache === false
          ? []
          : await promptBlockKeys(
              { tenantSalt, modelId: ctx.modelId, weightsDigest: ctx.weightsDigest },
              promptIds,
            ),
    },
    includeUsage: includeUsageOf(fields),
  };
}
