// From a validated request to a generation plan: resolve the model, encode the prompt, check that
// prompt + max_tokens fit the context, and map the sampling fields onto the engine's options.
import type { EdgeModel } from '../dispatch/edge-registry';
import { contextLengthExceeded, invalidRequest } from '../protocol/errors';
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
