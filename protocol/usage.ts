// Usage in both DeepSeek's and OpenAI's shapes; cached tokens are reported the way each documents.
// The schemas are published in the OpenAPI document; the types are inferred from them.
import { z } from 'zod';

/** An amount in nano-units (1e-9) of a currency. */
export const nanos = z.number().int().min(0);

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

/**
 * A request's latency as the Worker saw it: not an OpenAI or DeepSeek field (their clients pass
 * unknown usage fields through). Measured by protocol/latency.ts.
 */
export const timingSchema = z
  .object({
    ttft_ms: z.number().min(0).nullable().meta({
      description:
        'Milliseconds from the request reaching the Worker to its first output token (a stream: the frame handed to the body); null when none was produced.',
    }),
    decode_ms: z
      .number()
      .min(0)
      .meta({ description: 'Milliseconds from the first output token to the last.' }),
    decode_tokens_per_second: z.number().min(0).nullable().meta({
      description:
        'Completion tokens after the first, per second of decode_ms; null below two tokens or when the clock did not move (workerd advances it on I/O only).',
    }),
  })
  .meta({ id: 'Timing' });

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
    timing: timingSchema.optional().meta({
      description:
        "This answer's time to first token and decode speed (an extension; a replay carries the first answer's).",
    }),
  })
  .meta({ id: 'Usage' });

/** A request's cost. Amounts are integers of nano-units (1e-9) of `currency`: they add up exactly. */
export type Cost = z.infer<typeof costSchema>;
export type Usage = z.infer<typeof usageSchema>;
export type Timing = z.infer<typeof timingSchema>;

export function makeUsage(promptTokens: number, completionTokens: number, cachedTokens = 0): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_cache_hit_tokens: cachedTokens,
    prompt_cache_miss_tokens: promptTokens - cachedTokens,
    prompt_tokens_details: { cached_tokens: cachedTokens },
  };
}
