// Response and stream-chunk shapes of the OpenAI/DeepSeek APIs.
import { z } from 'zod';
import type { Usage } from './usage';

export type FinishReason = 'stop' | 'length' | 'content_filter' | null;

/** One candidate token and its log-probability (chat `logprobs`). */
export interface TopLogprob {
  token: string;
  logprob: number;
  /** The token's UTF-8 bytes (a token may hold part of a character). */
  bytes: number[] | null;
}

export interface TokenLogprob extends TopLogprob {
  top_logprobs: TopLogprob[];
}

/** Chat: `choices[].logprobs` when the request set `logprobs: true`. */
export interface ChatLogprobs {
  content: TokenLogprob[] | null;
  refusal: null;
}

/** Legacy completions: `choices[].logprobs` when the request set `logprobs: N`. */
export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Record<string, number>[] | null;
  text_offset: number[];
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: {
    index: number;
    message: { role: 'assistant'; content: string };
    logprobs: ChatLogprobs | null;
    finish_reason: FinishReason;
  }[];
  usage: Usage;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: {
    index: number;
    delta: { role?: 'assistant'; content?: string };
    logprobs: ChatLogprobs | null;
    finish_reason: FinishReason;
  }[];
  usage?: Usage | null;
}

export interface Completion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: {
    index: number;
    text: string;
    logprobs: CompletionLogprobs | null;
    finish_reason: FinishReason;
  }[];
  usage?: Usage | null;
}

export interface ModelCard {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  /** Extension: where the model runs and how long its context is. */
  placement?: 'edge' | 'origin';
  context_length?: number;
  description?: string;
  /** Extension (origins): 'hf' (the checkpoint's tokenizer.json) or 'byte-fallback'. */
  tokenizer?: string;
}

export interface ModelList {
  object: 'list';
  data: ModelCard[];
}

// Response schemas for the OpenAPI document (`routes/openapi.ts`); the interfaces above are what the
// server builds, and tests/sdk/protocol-types.ts checks at compile time that they fit these schemas.
// Objects accept unknown fields, as OpenAI's clients do.

const nanos = z.number().int().min(0);

export const costSchema = z
  .object({
    currency: z.string().meta({ examples: ['USD'] }),
    unit: z.literal('nano').meta({
      description: 'Amounts are integers of 1e-9 currency units, so they add up exactly.',
    }),
    input_cache_hit: nanos,
    input_cache_miss: nanos,
    output: nanos,
    total: nanos.meta({ description: 'input_cache_hit + input_cache_miss + output.' }),
    off_peak: z.boolean().meta({ description: 'Charged at the off-peak discount.' }),
  })
  .meta({ id: 'Cost' });

export const usageSchema = z
  .object({
    prompt_tokens: z.number().int().min(0),
    completion_tokens: z.number().int().min(0),
    total_tokens: z.number().int().min(0),
    prompt_cache_hit_tokens: z.number().int().min(0).meta({
      description: 'DeepSeek: prompt tokens restored from the prompt cache (priced lower).',
    }),
    prompt_cache_miss_tokens: z
      .number()
      .int()
      .min(0)
      .meta({ description: 'DeepSeek: prompt tokens computed; hit + miss = prompt_tokens.' }),
    prompt_tokens_details: z
      .object({ cached_tokens: z.number().int().min(0) })
      .meta({ description: 'OpenAI: the same hit count.' }),
    completion_tokens_details: z.object({ reasoning_tokens: z.number().int().min(0) }).optional(),
    cost: costSchema
      .optional()
      .meta({ description: 'What this request cost; absent where billing is off.' }),
  })
  .meta({ id: 'Usage' });

const finishReason = z.enum(['stop', 'length', 'content_filter']).nullable();
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
    token_logprobs: z.array(z.number()),
    top_logprobs: z.array(z.record(z.string(), z.number())).nullable(),
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
        message: z.object({ role: z.literal('assistant'), content: z.string() }),
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
          content: z.string().optional(),
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
    tokenizer: z.string().optional().meta({
      description:
        "Extension (origins): 'hf' (the checkpoint's tokenizer.json) or 'byte-fallback' (one token per UTF-8 byte).",
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

export const usageReportSchema = z
  .object({
    object: z.literal('usage'),
    key_id: z.string(),
    currency: z.string(),
    unit: z.literal('nano'),
    start_date: isoDay,
    end_date: isoDay,
    data: z.array(z.object({ date: isoDay, model: z.string(), ...usageTotals })),
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
