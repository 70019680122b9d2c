// Request schemas (zod): the validation is the spec. Field names are the OpenAI/DeepSeek wire names.
import { z } from 'zod';

const stop = z.union([z.string().min(1), z.array(z.string().min(1)).max(16)]).nullish();
const streamOptions = z.object({ include_usage: z.boolean().nullish() }).nullish();

/** Sampling fields shared by /v1/chat/completions and /v1/completions. */
const sampling = {
  model: z.string().min(1, 'model must be a non-empty string'),
  max_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  stop,
  stream: z.boolean().nullish(),
  stream_options: streamOptions,
  n: z.literal(1, { message: 'only n = 1 is supported' }).nullish(),
  user: z.string().nullish(),
};

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const content = z.union([z.string(), z.array(textPart)]).nullable();

export const chatMessage = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
  content,
  name: z.string().optional(),
});
export type ChatMessage = z.infer<typeof chatMessage>;

export const chatCompletionRequest = z.looseObject({
  ...sampling,
  messages: z.array(chatMessage).min(1, 'messages must contain at least one message'),
  max_completion_tokens: z.number().int().min(1).nullish(),
});
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequest>;

export const completionRequest = z.looseObject({
  ...sampling,
  prompt: z.union([z.string(), z.array(z.string()).length(1, 'only one prompt per request is supported')]),
  echo: z.boolean().nullish(),
});
export type CompletionRequest = z.infer<typeof completionRequest>;

/** The first zod issue as an OpenAI-style message and `param` (dotted path). */
export function describeIssue(error: z.ZodError): { message: string; param: string | null } {
  const issue = error.issues[0];
  const param = issue.path.length ? issue.path.join('.') : null;
  const message = param ? `Invalid value for '${param}': ${issue.message}` : issue.message;
  return { message, param };
}
