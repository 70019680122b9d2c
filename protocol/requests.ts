// Request schemas (zod): the validation is the spec. Field names are the OpenAI/DeepSeek wire names.
// `.meta()` names a schema (its `id` becomes an OpenAPI component) and documents fields; it does not
// change what is accepted. `routes/openapi.ts` turns these same objects into `GET /openapi.json`.
import { z } from 'zod';
import { toolFields, toolMessageFields } from './tool-requests';

/** Longest model id (docs/errors.md "Limits"); R2 keys and ledger rows are built from it. */
export const MAX_MODEL_ID = 256;
/** Most messages in one chat request (protocol/body.ts bounds every array by the same number). */
export const MAX_MESSAGES = 2048;

const stop = z
  .union([z.string().min(1), z.array(z.string().min(1)).max(16)])
  .nullish()
  .meta({
    description:
      'Up to 16 strings; generation stops before the first one and leaves it out of the output.',
  });
const streamOptions = z
  .object({
    include_usage: z
      .boolean()
      .nullish()
      .meta({ description: 'Send a last chunk with `choices: []` and the usage.' }),
  })
  .nullish()
  .meta({ id: 'StreamOptions' });

/** Sampling fields shared by /v1/chat/completions and /v1/completions. */
const sampling = {
  model: z
    .string()
    .min(1, 'model must be a non-empty string')
    .max(MAX_MODEL_ID, `model ids are at most ${MAX_MODEL_ID} characters`)
    .meta({ description: 'A model id from `GET /v1/models`.', examples: ['stories260k'] }),
  max_tokens: z
    .number()
    .int()
    .min(1)
    .nullish()
    .meta({ description: 'Most tokens to generate; prompt + max_tokens must fit the context.' }),
  temperature: z.number().min(0).max(2).nullish().meta({ description: '0 is greedy. Default 1.' }),
  top_p: z.number().min(0).max(1).nullish().meta({
    description: 'Nucleus sampling mass; 0 keeps only the most likely token (greedy). Default 1.',
  }),
  seed: z.number().int().nullish().meta({ description: 'Same seed and request, same text.' }),
  top_k: z.number().int().min(0).nullish().meta({
    description: 'Extension (vLLM, llama.cpp): sample among the k most likely tokens; 0 is off.',
  }),
  min_p: z.number().min(0).max(1).nullish().meta({
    description:
      'Extension (vLLM, llama.cpp): drop tokens less likely than min_p × the most likely one; 0 is off.',
  }),
  presence_penalty: z.number().min(-2).max(2).nullish().meta({
    description: 'Subtracted from the logit of every token already generated. Default 0.',
  }),
  frequency_penalty: z.number().min(-2).max(2).nullish().meta({
    description: "Subtracted from a token's logit once per time it was generated. Default 0.",
  }),
  logit_bias: z
    .record(
      z.string().regex(/^\d+$/, 'logit_bias keys are token ids'),
      z.number().min(-100).max(100),
    )
    .refine((r) => Object.keys(r).length <= 300, 'logit_bias takes at most 300 tokens')
    .nullish()
    .meta({
      description: 'Token id → bias (-100..100) added to its logit; -100 bans it, 100 forces it.',
    }),
  stop,
  stream: z
    .boolean()
    .nullish()
    .meta({ description: 'Answer as server-sent events, ending with `data: [DONE]`.' }),
  stream_options: streamOptions,
  n: z.number().int().min(1).max(8).nullish().meta({
    description:
      'Choices to generate (1..8), one after another; each counts its own completion tokens, the prompt counts once. Default 1.',
  }),
  user: z.string().nullish(),
  cache: z.boolean().nullish().meta({
    description:
      'Extension: false skips the prompt cache for this request (no cached prefix is restored, none is stored). Default true.',
  }),
};

const textPart = z.object({
  type: z.literal('text', {
    error:
      "only 'text' content parts are supported: the models here read text, not images or audio",
  }),
  text: z.string(),
});
const content = z
  .union([z.string(), z.array(textPart).min(1, 'an array of content parts must not be empty')])
  .nullable();

/** A message's text: its string, or its parts joined. */
export const messageText = (m: { content: string | { text: string }[] | null }): string =>
  typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text).join('');

export const chatMessage = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
    content: content.default(null),
    name: z.string().optional(),
    ...toolMessageFields,
    prefix: z.boolean().nullish().meta({
      description:
        "DeepSeek's chat prefix completion: on the last message, an assistant's, the answer continues exactly this text (its content is only the continuation).",
    }),
    reasoning_content: z.string().nullish().meta({
      description:
        "An earlier assistant turn's reasoning: accepted and left out of the prompt, as DeepSeek's API does between user turns.",
    }),
  })
  .meta({ id: 'ChatMessage' });
export type ChatMessage = z.infer<typeof chatMessage>;

export const chatCompletionRequest = z
  .looseObject({
    ...sampling,
    messages: z
      .array(chatMessage)
      .min(1, 'messages must contain at least one message')
      .max(MAX_MESSAGES, `messages holds at most ${MAX_MESSAGES} messages`)
      // An empty string, no parts or only empty parts: there is nothing to answer, and nothing to bill.
      .superRefine((ms, ctx) => {
        if (ms.length && ms.every((m) => messageText(m) === ''))
          ctx.addIssue({
            code: 'custom',
            message: 'messages must contain some text: every message is empty.',
            path: [ms.length - 1, 'content'],
          });
      }),
    max_completion_tokens: z
      .number()
      .int()
      .min(1)
      .nullish()
      .meta({ description: 'OpenAI alias of max_tokens.' }),
    logprobs: z
      .boolean()
      .nullish()
      .meta({ description: 'Return the log-probability of each output token.' }),
    top_logprobs: z.number().int().min(0).max(20).nullish().meta({
      description: 'With logprobs: this many most likely alternatives per token (0..20).',
    }),
    ...toolFields,
    thinking: z
      .object({ type: z.enum(['enabled', 'disabled']) })
      .nullish()
      .meta({
        description:
          "DeepSeek's thinking switch: enabled, the answer reasons first (`reasoning_content`); disabled, the template closes the think block. Default: the model's (reasoning models think).",
      }),
  })
  .superRefine((req, ctx) => {
    // DeepSeek's prefix completion continues the answer: only the last message, an assistant's, can be one.
    req.messages.forEach((m, i) => {
      if (m.prefix !== true) return;
      const problem =
        m.role !== 'assistant'
          ? `prefix is allowed only on an assistant message, not on a '${m.role}' one`
          : i !== req.messages.length - 1
            ? 'prefix is allowed only on the last message'
            : null;
      if (problem)
        ctx.addIssue({ code: 'custom', path: ['messages', i, 'prefix'], message: problem });
    });
  })
  .meta({
    id: 'CreateChatCompletionRequest',
    description: 'Unknown fields are accepted and ignored.',
  });
export type ChatCompletionRequest = z.infer<typeof chatCompletionRequest>;

const ONE_PROMPT = 'only one prompt per request is supported';
const tokenIds = z
  .array(z.number().int().min(0))
  .min(1, 'a prompt of token ids holds at least one');

export const completionRequest = z
  .looseObject({
    ...sampling,
    // OpenAI's four forms: text, token ids, or a batch of either (here a batch of one)
    prompt: z
      .union([
        z.string(),
        z.array(z.string()).length(1, ONE_PROMPT),
        tokenIds,
        z.array(tokenIds).length(1, ONE_PROMPT),
      ])
      .meta({
        description:
          "Text, or the model's token ids (fed as they are: no BOS is added); also either in an array of one.",
      }),
    echo: z.boolean().nullish().meta({ description: 'Prepend the prompt to the completion text.' }),
    suffix: z.string().nullish().meta({
      description:
        "DeepSeek's FIM (fill in the middle): the text after the gap; the model writes what goes between `prompt` and `suffix`, with its tokenizer's FIM tokens. At most 4096 max_tokens, as DeepSeek's.",
    }),
    // 20 as DeepSeek's FIM completions take (OpenAI's legacy API stops at 5)
    logprobs: z.number().int().min(0).max(20).nullish().meta({
      description:
        'Return the log-probability of each output token and the N (0..20) most likely alternatives.',
    }),
  })
  .meta({
    id: 'CreateCompletionRequest',
    description: 'Legacy text completion. Unknown fields are accepted and ignored.',
  });
export type CompletionRequest = z.infer<typeof completionRequest>;

/** A completion's one prompt: its text, or its token ids. */
export const completionPrompt = (prompt: CompletionRequest['prompt']): string | number[] =>
  typeof prompt === 'string' || typeof prompt[0] === 'number'
    ? (prompt as string | number[])
    : (prompt[0] as string | number[]);

export { describeIssue } from './zod-issue';
