// client.chat.completions — POST /v1/chat/completions, JSON or a Stream of chunks.
import type { EdgeInference, RequestOptions } from '../client';
import type { APIPromise } from '../core/api-promise';
import type { Stream } from '../core/stream';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParams,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from '../types';

export class ChatCompletions {
  constructor(private readonly client: EdgeInference) {}

  create(
    body: ChatCompletionCreateParamsNonStreaming,
    options?: RequestOptions,
  ): APIPromise<ChatCompletion>;
  create(
    body: ChatCompletionCreateParamsStreaming,
    options?: RequestOptions,
  ): APIPromise<Stream<ChatCompletionChunk>>;
  create(
    body: ChatCompletionCreateParams,
    options?: RequestOptions,
  ): APIPromise<ChatCompletion | Stream<ChatCompletionChunk>>;
  create(
    body: ChatCompletionCreateParams,
    options?: RequestOptions,
  ): APIPromise<ChatCompletion | Stream<ChatCompletionChunk>> {
    return this.client.request(
      { method: 'POST', path: '/chat/completions', body, stream: body.stream === true },
      options,
    );
  }
}

export class Chat {
  readonly completions: ChatCompletions;
  constructor(client: EdgeInference) {
    this.completions = new ChatCompletions(client);
  }
}
