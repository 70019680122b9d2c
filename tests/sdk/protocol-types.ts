// Compile-time checks (run by `tsc --noEmit -p .`): the types the SDK returns are exactly what the
// response schemas of the OpenAPI document say (they are inferred from them in protocol/, so an SDK
// type declared by hand that drifts fails here), and the hand-written error body fits its schema.
import type { z } from 'zod';
import type { ErrorBody } from '../../protocol/errors';
import type {
  balanceSchema,
  chatCompletionChunkSchema,
  chatCompletionSchema,
  completionSchema,
  errorBodySchema,
  modelCardSchema,
  modelListSchema,
  usageReportSchema,
} from '../../protocol/responses';
import type { costSchema, usageSchema } from '../../protocol/usage';
import type {
  BalanceResponse,
  ChatCompletion,
  ChatCompletionChunk,
  Completion,
  Cost,
  Model,
  ModelList,
  Usage,
  UsageReport,
} from '../../sdk/types';

type Fits<T, Schema extends z.ZodType> = T extends z.input<Schema> ? true : false;
/** T describes exactly what the schema allows. */
type Same<T, Schema extends z.ZodType> = [T] extends [z.input<Schema>]
  ? [z.output<Schema>] extends [T]
    ? true
    : false
  : false;
const yes = <T extends true>(): T => true as T;

export const protocolFitsSpec = [
  yes<Fits<ErrorBody, typeof errorBodySchema>>(),
  yes<Same<Usage, typeof usageSchema>>(),
  yes<Same<Cost, typeof costSchema>>(),
  yes<Same<ChatCompletion, typeof chatCompletionSchema>>(),
  yes<Same<ChatCompletionChunk, typeof chatCompletionChunkSchema>>(),
  yes<Same<Completion, typeof completionSchema>>(),
  yes<Same<Model, typeof modelCardSchema>>(),
  yes<Same<ModelList, typeof modelListSchema>>(),
  yes<Same<UsageReport, typeof usageReportSchema>>(),
  yes<Same<BalanceResponse, typeof balanceSchema>>(),
];
