// The SSE chunks of chat and text completions, as the Worker (routes/) and the origin (origin/server/)
// both send them: one content chunk per delta/finish and the usage chunk that ends a stream.
import type { ChatCompletionChunk, Completion, FinishReason, TokenLogprob } from './responses';
import type { Usage } from './usage';

/** The fields every chunk of one response starts with. */
export interface Head {
  id: string;
  created: number;
  model: string;
  system_fingerprint: string;
}

/** A chat chunk of choice `index`; `usage: null` when the stream will end with a usage chunk. */
export const chatChunk = (
  head: Head,
  index: number,
  delta: ChatCompletionChunk['choices'][0]['delta'],
  finish: FinishReason,
  logprobs: TokenLogprob[] | undefined,
  includeUsage: boolean,
): ChatCompletionChunk => ({
  ...head,
  object: 'chat.completion.chunk',
  choices: [
    {
      index,
      delta,
      logprobs: logprobs ? { content: logprobs, refusal: null } : null,
      finish_reason: finish,
    },
  ],
  ...(includeUsage ? { usage: null } : {}),
});

/** A text-completion chunk of choice `index`; `usage: null` when the stream will end with a usage chunk. */
export const completionChunk = (
  head: Head,
  index: number,
  text: string,
  finish: FinishReason,
  logprobs: Completion['choices'][0]['logprobs'],
  includeUsage: boolean,
): Completion => ({
  ...head,
  object: 'text_completion',
  choices: [{ index, text, logprobs, finish_reason: finish }],
  ...(includeUsage ? { usage: null } : {}),
});

/** The chat stream's last chunk when the client asked for usage: `choices: []`. */
export const chatUsageChunk = (head: Head, usage: Usage): ChatCompletionChunk => ({
  ...head,
  object: 'chat.completion.chunk',
  choices: [],
  usage,
});

/** The text-completion stream's last chunk when the client asked for usage: `choices: []`. */
export const completionUsageChunk = (head: Head, usage: Usage): Completion => ({
  ...head,
  object: 'text_completion',
  choices: [],
  usage,
});
