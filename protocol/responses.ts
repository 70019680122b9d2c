// Response and stream-chunk shapes of the OpenAI/DeepSeek APIs, as zod schemas (published in the
// OpenAPI document, routes/openapi.ts) and the types inferred from them, which the server builds and
// the SDK returns: one definition of each shape. Objects accept unknown fields, as OpenAI's clients do.
import { z } from 'zod';
import { nanos, usageSchema } from './usage';

const finishReason = z.enum(['stop', 'length', 'content_filter', 'tool_calls']).nullable();
const toolCallSchema = z.object({
  id: z.string(),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
});
const toolCallDeltaSchema = z.object({
  index: z.number().int(),
  id: z.string().optional(),
  type: z.literal('function').optional(),
  function: z.object({ name: z.string().optional(), arguments: z.string() }),
});
const topLogprob = z.object({
  token: z.string(),
  logprob: z.number(),
  bytes: z.array(z.number().int()).nullable(),
});
const chatLogprobs = z
  .object({
    content: z.array(topLogprob.extend({ top_logprobs: z.array(topLogprob) })).nullable(),
    refusal: z.null(),
  })
  .nullable()
  .meta({
    id: 'ChatLogprobs',
    description:
      'With `logprobs: true`: each token, its log-probability (of the model distribution) and `top_logprobs` alternatives.',
  });
const completionLogprobs = z
  .object({
    tokens: z.array(z.string()),
    // null for an echoed prompt's first token: nothing comes before it
    token_logprobs: z.array(z.number().nullable()),
    top_logprobs: z.array(z.record(z.string(), z.number()).nullable()).nullable(),
    text_offset: z.array(z.number().int()),
  })
  .nullable()
  .meta({
    id: 'CompletionLogprobs',
    description:
      'With `logprobs: N`: each token, its log-probability and the N most likely alternatives.',
  });
const head = {
  id: z.string(),
  created: z.number().int(),
  model: z.string().meta({ description: 'The model that served the request.' }),
  system_fingerprint: z.string(),
};

export const chatCompletionSchema = z
  .object({
    ...head,
    object: z.literal('chat.completion'),
    choices: z.array(
      z.object({
        index: z.number().int(),
        message: z.object({
          role: z.literal('assistant'),
          content: z.string().nullable(),
          reasoning_content: z.string().optional().meta({
            description: "A reasoning model's think block (DeepSeek), without its tags.",
          }),
          tool_calls: z.array(toolCallSchema).optional().meta({
            description: 'The calls the model made (`finish_reason: "tool_calls"`).',
          }),
        }),
        logprobs: chatLogprobs,
        finish_reason: finishReason,
      }),
    ),
    usage: usageSchema,
  })
  .meta({ id: 'ChatCompletion' });

export const chatCompletionChunkSchema = z
  .object({
    ...head,
    object: z.literal('chat.completion.chunk'),
    choices: z.array(
      z.object({
        index: z.number().int(),
        delta: z.object({
          role: z.literal('assistant').optional(),
          content: z.string().nullish(),
          reasoning_content: z.string().optional().meta({
            description:
              'A piece of the think block; such chunks come before the content ones, with `content: null`.',
          }),
          tool_calls: z.array(toolCallDeltaSchema).optional(),
        }),
        logprobs: chatLogprobs,
        finish_reason: finishReason,
      }),
    ),
    usage: usageSchema.nullish().meta({
      description:
        'With `stream_options.include_usage`: null on every chunk but the last, which has `choices: []`.',
    }),
  })
  .meta({
    id: 'ChatCompletionChunk',
    description: 'One `data:` frame of a streamed chat completion.',
  });

export const completionSchema = z
  .object({
    ...head,
    object: z.literal('text_completion'),
    choices: z.array(
      z.object({
        index: z.number().int(),
        text: z.string(),
        logprobs: completionLogprobs,
        finish_reason: finishReason,
      }),
    ),
    usage: usageSchema.nullish(),
  })
  .meta({
    id: 'Completion',
    description: 'A text completion, or one `data:` frame of a streamed one.',
  });

export const modelCardSchema = z
  .object({
    id: z.string(),
    object: z.literal('model'),
    created: z.number().int(),
    owned_by: z.string(),
    placement: z
      .enum(['edge', 'origin'])
      .optional()
      .meta({ description: 'Extension: where the model runs.' }),
    context_length: z.number().int().optional(),
    description: z.string().optional(),
    alias_of: z
      .string()
      .optional()
      .meta({ description: 'Extension: the model this alias (e.g. `deepseek-chat`) runs.' }),
    reasoning: z
      .boolean()
      .optional()
      .meta({ description: 'Extension: answers start with a think block (`reasoning_content`).' }),
    tokenizer: z.string().optional().meta({
      description:
        "Extension (origins): 'hf' (the checkpoint's tokenizer.json) or 'byte-fallback'.",
    }),
  })
  .meta({ id: 'Model' });

export const modelListSchema = z
  .object({ object: z.literal('list'), data: z.array(modelCardSchema) })
  .meta({ id: 'ModelList' });

export const errorBodySchema = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string().meta({
        description:
          'invalid_request_error, authentication_error, insufficient_balance, rate_limit_error, server_error, …',
      }),
      param: z
        .string()
        .nullable()
        .meta({ description: 'The request field at fault (dotted path), if any.' }),
      code: z.string().nullable(),
    }),
  })
  .meta({
    id: 'Error',
    description:
      "OpenAI's error shape; in a stream, an error after the first byte arrives as one such `data:` frame.",
  });

const usageTotals = {
  requests: z.number().int().min(0),
  prompt_tokens: z.number().int().min(0),
  prompt_cache_hit_tokens: z.number().int().min(0),
  prompt_cache_miss_tokens: z.number().int().min(0),
  completion_tokens: z.number().int().min(0),
  total_tokens: z.number().int().min(0),
  cost: z
    .object({ input_cache_hit: nanos, input_cache_miss: nanos, output: nanos, total: nanos })
    .meta({ description: 'Nano-units of `currency`.' }),
};
const isoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const percentiles = (unit: string) =>
  z
    .object({
      p50: z.number().min(0),
      p95: z.number().min(0),
      requests: z.number().int().min(1).meta({ description: 'Requests with this measure.' }),
    })
    .nullable()
    .meta({
      description: `Nearest-rank percentiles, ${unit}; null when no request of the group was timed.`,
    });
const latencyPercentiles = z
  .object({
    ttft_ms: percentiles('milliseconds to the first output token'),
    decode_tokens_per_second: percentiles('completion tokens per second after the first'),
  })
  .meta({ description: "The group's requests' `usage.timing`, as the ledger recorded it." });

export const usageReportSchema = z
  .object({
    object: z.literal('usage'),
    key_id: z.string(),
    currency: z.string(),
    unit: z.literal('nano'),
    start_date: isoDay,
    end_date: isoDay,
    data: z.array(
      z.object({ date: isoDay, model: z.string(), ...usageTotals, latency: latencyPercentiles }),
    ),
    totals: z.object(usageTotals),
  })
  .meta({
    id: 'UsageReport',
    description: "The key's usage by day (UTC) and model, from the ledger.",
  });

export const balanceSchema = z
  .object({
    is_available: z.boolean().meta({ description: 'Whether the balance can pay for a request.' }),
    balance_infos: z.array(
      z
        .object({
          currency: z.string(),
          total_balance: z.string(),
          granted_balance: z.string(),
          topped_up_balance: z.string(),
        })
        .meta({ description: 'Exact decimal amounts.' }),
    ),
  })
  .meta({ id: 'Balance', description: "DeepSeek's `GET /user/balance` shape." });

export type FinishReason = z.infer<typeof finishReason>;
/** One candidate token and its log-probability (chat `logprobs`); `bytes`: its UTF-8 bytes. */
export type TopLogprob = z.infer<typeof topLogprob>;
/** Chat: `choices[].logprobs` when the request set `logprobs: true`. */
export type ChatLogprobs = NonNullable<z.infer<typeof chatLogprobs>>;
export type TokenLogprob = NonNullable<ChatLogprobs['content']>[number];
/** Legacy completions: `choices[].logprobs` when the request set `logprobs: N`. */
export type CompletionLogprobs = NonNullable<z.infer<typeof completionLogprobs>>;
export type ChatCompletion = z.infer<typeof chatCompletionSchema>;
export type ChatCompletionChunk = z.infer<typeof chatCompletionChunkSchema>;
export type Completion = z.infer<typeof completionSchema>;
export type ModelCard = z.infer<typeof modelCardSchema>;
export type ModelList = z.infer<typeof modelListSchema>;
/** `GET /v1/usage`: a key's usage by day (UTC) and model. */
export type UsageReport = z.infer<typeof usageReportSchema>;
/** Tokens and cost (nano-units of the report's currency) of one day and model, or of the period. */
export type UsageTotals = UsageReport['totals'];
/** DeepSeek's `GET /user/balance`. */
export type BalanceResponse = z.infer<typeof balanceSchema>;
export type BalanceInfo = BalanceResponse['balance_infos'][number];
