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
