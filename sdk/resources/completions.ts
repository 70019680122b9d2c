// client.completions — POST /v1/completions (legacy text completion), JSON or a Stream.
import type { EdgeInference, RequestOptions } from '../client';
import type { APIPromise } from '../core/api-promise';
import type { Stream } from '../core/stream';
import type {
  Completion,
  CompletionCreateParams,
  CompletionCreateParamsNonStreaming,
  CompletionCreateParamsStreaming,
} from '../types';

export class Completions {
  constructor(private readonly client: EdgeInference) {}

  create(
    body: CompletionCreateParamsNonStreaming,
    options?: RequestOptions,
  ): APIPromise<Completion>;
  create(
    body: CompletionCreateParamsStreaming,
    options?: RequestOptions,
  ): APIPromise<Stream<Completion>>;
  create(
    body: CompletionCreateParams,
    options?: RequestOptions,
  ): APIPromise<Completion | Stream<Completion>>;
  create(
    body: CompletionCreateParams,
    options?: RequestOptions,
  ): APIPromise<Completion | Stream<Completion>> {
    return this.client.request(
      { method: 'POST', path: '/completions', body, stream: body.stream === true },
      options,
    );
  }
}
