// The SDK's types: wire shapes come from protocol/ (shared with the server, inferred from the schemas
// the OpenAPI document publishes); what is added here are the call parameters.
import type { ChatCompletionRequest, CompletionRequest } from '../protocol/requests';
import type { UsageTotals } from '../protocol/responses';

export type { ChatMessage } from '../protocol/requests';
export type {
  BalanceInfo,
  BalanceResponse,
  ChatCompletion,
  ChatCompletionChunk,
  Completion,
  FinishReason,
  ModelCard as Model,
  ModelList,
  UsageReport,
  UsageTotals,
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

export interface UsageQuery {
  /** First day included, `YYYY-MM-DD` (UTC). */
  start_date?: string;
  /** Last day included, `YYYY-MM-DD` (UTC). */
  end_date?: string;
}

/** Amounts of a usage row, in nano-units of the report's currency. */
export type UsageCost = UsageTotals['cost'];
