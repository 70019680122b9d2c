// The SSE chunks of chat and text completions, as the Worker (routes/), the dispatcher's origin
// answers (dispatch/) and the origin (origin/server/) all send them: one content chunk per
// delta/finish and the usage chunk that ends a stream. `Frames` puts them together per endpoint
// (endpoint-frames.ts builds the two).
import type { ChatCompletionChunk, Completion, FinishReason, TokenLogprob } from './responses';
import type { ToolCallDelta } from './tool-calls';
import type { ToolCall } from './tool-requests';
import type { Usage } from './usage';

/** How one endpoint shapes its stream; `index` is the choice's (OpenAI's `n`). */
export interface Frames {
  /** Frames sent before a choice's first token (chat: the assistant role; completions: the echo). */
  opening(index: number): object[];
  /** `logprobs`: entries of the tokens since the last delta, when the request asked for them. */
  delta(text: string, logprobs: TokenLogprob[] | undefined, index: number): object;
  /** Chat: a piece of the think block, sent as `reasoning_content` before any content (DeepSeek's order). */
  reasoning?(text: string, index: number, logprobs?: TokenLogprob[]): object;
  /** `usage` is given when the client did not ask for a usage chunk: the cost still ends the stream. */
  finish(reason: FinishReason, usage: Usage | undefined, index: number): object;
  /** The last chunk when the client asked for usage: `choices: []`. */
  usage(usage: Usage): object;
  /** A tool-call delta (chat only): OpenAI's `delta.tool_calls` chunk. */
  toolCall?(delta: ToolCallDelta, index: number): object;
}

/** One finished choice, as a JSON body or a replayed stream shows it. */
export interface Choice {
  text: string;
  finishReason: FinishReason;
  /** Per output token, when the request asked for logprobs. */
  logprobs?: TokenLogprob[];
  /** The tool calls of a chat answer; `text` is then the content before them (often ''). */
  toolCalls?: ToolCall[];
  /** DeepSeek reasoner's `reasoning_content` (an origin's; the edge has none). */
  reasoning?: string;
}

/** An endpoint's stream frames and its JSON body. */
export interface Shapes extends Frames {
  body(choices: Choice[], usage: Usage): object;
}

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
