// Compile-time checks (run by `tsc --noEmit -p .`): every value the server builds with the
// protocol/ interfaces fits the response schemas that the OpenAPI document publishes.
import type { z } from 'zod';
import type { ErrorBody } from '../../protocol/errors';
import type { ChatCompletion, ChatCompletionChunk, Completion, ModelCard, ModelList } from '../../protocol/responses';
import type {
  chatCompletionChunkSchema,
  chatCompletionSchema,
  completionSchema,
  errorBodySchema,
  modelCardSchema,
  modelListSchema,
  usageSchema,
} from '../../protocol/responses';
import type { Usage } from '../../protocol/usage';

type Fits<T, Schema extends z.ZodType> = T extends z.input<Schema> ? true : false;
const yes = <T extends true>(): T => true as T;

export const protocolFitsSpec = [
  yes<Fits<Usage, typeof usageSchema>>(),
  yes<Fits<ChatCompletion, typeof chatCompletionSchema>>(),
  yes<Fits<ChatCompletionChunk, typeof chatCompletionChunkSchema>>(),
  yes<Fits<Completion, typeof completionSchema>>(),
  yes<Fits<ModelCard, typeof modelCardSchema>>(),
  yes<Fits<ModelList, typeof modelListSchema>>(),
  yes<Fits<ErrorBody, typeof errorBodySchema>>(),
];
