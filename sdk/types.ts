// The SDK's types: wire shapes come from protocol/ (shared with the server); what is added here are
// the call parameters and the billing shapes the server reports.
import type { ChatCompletionRequest, CompletionRequest } from '../protocol/requests';
import type { ChatCompletion as WireChatCompletion, ChatCompletionChunk as WireChatCompletionChunk, Completion as WireCompletion } from '../protocol/responses';
import type { Usage as WireUsage } from '../protocol/usage';

export type { ChatMessage } from '../protocol/requests';
export type { FinishReason, ModelCard as Model, ModelList } from '../protocol/responses';
export type { ErrorBody, ErrorType } from '../protocol/errors';

/** What a request cost: exact decimal amounts of `currency`; `total` = hit + miss + output. */
export interface Cost {
  /** Prompt tokens restored from the prompt cache, at the cache-hit price. */
  hit: string;
  /** Prompt tokens computed, at the cache-miss price. */
  miss: string;
  output: string;
  total: string;
  currency: string;
}

/** Usage in DeepSeek's and OpenAI's shapes, and what it cost. */
export type Usage = WireUsage & { cost?: Cost };

export type ChatCompletion = Omit<WireChatCompletion, 'usage'> & { usage: Usage };
export type ChatCompletionChunk = Omit<WireChatCompletionChunk, 'usage'> & { usage?: Usage | null };
export type Completion = Omit<WireCompletion, 'usage'> & { usage?: Usage | null };

export type ChatCompletionCreateParams = ChatCompletionRequest;
export type ChatCompletionCreateParamsStreaming = ChatCompletionRequest & { stream: true };
export type ChatCompletionCreateParamsNonStreaming = ChatCompletionRequest & { stream?: false | null };

export type CompletionCreateParams = CompletionRequest;
export type CompletionCreateParamsStreaming = CompletionRequest & { stream: true };
export type CompletionCreateParamsNonStreaming = CompletionRequest & { stream?: false | null };

/** DeepSeek's `GET /user/balance`. */
export interface BalanceInfo {
  currency: string;
  total_balance: string;
  granted_balance: string;
  topped_up_balance: string;
}
export interface BalanceResponse {
  is_available: boolean;
  balance_infos: BalanceInfo[];
}

export interface UsageQuery {
  /** First day included, `YYYY-MM-DD` (UTC). */
  start_date?: string;
  /** Last day included, `YYYY-MM-DD` (UTC). */
  end_date?: string;
}

/** One day and model of `GET /v1/usage`. */
export interface UsageBucket {
  date: string;
  model: string;
  requests: number;
  prompt_tokens: number;
  prompt_cache_hit_tokens: number;
  prompt_cache_miss_tokens: number;
  completion_tokens: number;
  cost: Cost;
}
export interface UsageReport {
  object: 'usage';
  data: UsageBucket[];
  [field: string]: unknown;
}
