// Compile-time checks (run by `tsc --noEmit -p .`): every value the server builds with the
// protocol/ interfaces fits the response schemas that the OpenAPI document publishes, and the
// SDK's own interfaces for usage and balance say what those schemas say.
import type { z } from 'zod';
import type { ErrorBody } from '../../protocol/errors';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  Completion,
  ModelCard,
  ModelList,
} from '../../protocol/responses';
import type {
  chatCompletionChunkSchema,
  chatCompletionSchema,
  completionSchema,
  errorBodySchema,
  modelCardSchema,
  modelListSchema,
  usageSchema,
} from '../../protocol/responses';
import type { balanceSchema, costSchema, usageReportSchema } from '../../protocol/responses';
import type { Cost, Usage } from '../../protocol/usage';
import type { BalanceResponse, UsageReport } from '../../sdk/types';

type Fits<T, Schema extends z.ZodType> = T extends z.input<Schema> ? true : false;
/** The SDK's hand-written interfaces describe exactly what the schema allows. */
type Same<T, Schema extends z.ZodType> = [T] extends [z.input<Schema>]
  ? [z.output<Schema>] extends [T]
    ? true
    : false
  : false;
const yes = <T extends true>(): T => true as T;

export const protocolFitsSpec = [
  yes<Fits<Usage, typeof usageSchema>>(),
  yes<Fits<ChatCompletion, typeof chatCompletionSchema>>(),
  yes<Fits<ChatCompletionChunk, typeof chatCompletionChunkSchema>>(),
  yes<Fits<Completion, typeof completionSchema>>(),
  yes<Fits<ModelCard, typeof modelCardSchema>>(),
  yes<Fits<ModelList, typeof modelListSchema>>(),
  yes<Fits<ErrorBody, typeof errorBodySchema>>(),
  yes<Fits<Cost, typeof costSchema>>(),
  yes<Same<UsageReport, typeof usageReportSchema>>(),
  yes<Same<BalanceResponse, typeof balanceSchema>>(),
];
