// The SDK's types: wire shapes come from protocol/ (shared with the server); what is added here are
// the call parameters and the billing shapes the server reports.
import type { ChatCompletionRequest, CompletionRequest } from '../protocol/requests';
import type { Cost } from '../protocol/usage';

export type { ChatMessage } from '../protocol/requests';
export type {
  ChatCompletion,
  ChatCompletionChunk,
  Completion,
  FinishReason,
  ModelCard as Model,
  ModelList,
} from '../protocol/responses';
export type { Cost, Usage } from '../protocol/usage';
export type { ErrorBody, ErrorType } from '../protocol/errors';

export type ChatCompletionCreateParams = ChatCompletionRequest;
export type ChatCompletionCreateParamsStreaming = ChatCompletionRequest & { stream: true };
export type ChatCompletionCreateParamsNonStreaming = ChatCompletionRequest & {
  stream?: false | null;
};

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

/** Amounts of a usage row, in nano-units of the report's currency. */
export type UsageCost = Pick<Cost, 'input_cache_hit' | 'input_cache_miss' | 'output' | 'total'>;

export interface UsageQuery {
  /** First day included, `YYYY-MM-DD` (UTC). */
  start_date?: string;
  /** Last day included, `YYYY-MM-DD` (UTC). */
  end_date?: string;
}

/** Tokens and cost of one day and model, or of the whole period. */
export interface UsageTotals {
  requests: number;
  prompt_tokens: number;
  prompt_cache_hit_tokens: number;
  prompt_cache_miss_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost: UsageCost;
}

/** `GET /v1/usage`: this key's usage by day (UTC) and model. */
export interface UsageReport {
  object: 'usage';
  key_id: string;
  currency: string;
  unit: 'nano';
  start_date: string;
  end_date: string;
  data: (UsageTotals & { date: string; model: string })[];
  totals: UsageTotals;
}
