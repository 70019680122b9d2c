// Usage in both DeepSeek's and OpenAI's shapes; cached tokens are reported the way each documents.

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** DeepSeek: prompt tokens served from the prompt cache. */
  prompt_cache_hit_tokens: number;
  /** DeepSeek: prompt tokens computed; hit + miss = prompt_tokens. */
  prompt_cache_miss_tokens: number;
  /** OpenAI: the same hit count. */
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details?: { reasoning_tokens: number };
  /** Extension: what this request cost (absent where billing is off). */
  cost?: Cost;
}

/** A request's cost. Amounts are integers of nano-units (1e-9) of `currency`: they add up exactly. */
export interface Cost {
  currency: string;
  unit: 'nano';
  input_cache_hit: number;
  input_cache_miss: number;
  output: number;
  total: number;
  /** Charged at the off-peak discount. */
  off_peak: boolean;
}

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
