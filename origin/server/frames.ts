// The wire shapes of the origin's answers, from protocol/: chat and text completions as one JSON body
// or as SSE chunks. Same fields as the Worker's (routes/), so the dispatcher relays them unchanged.
import {
  chatChunk,
  chatUsageChunk,
  completionChunk,
  completionUsageChunk,
  type Head,
} from '../../protocol/frames';
import type {
  ChatCompletion,
  Completion,
  FinishReason,
  TokenLogprob,
} from '../../protocol/responses';
import type { Usage } from '../../protocol/usage';
import { completionLogprobs } from '../../routes/logprobs';

export const FINGERPRINT = 'fp_origin_reference';

export type { Head };

/** How one endpoint shapes its output. */
export interface Frames {
  /** Chunks before the first token (chat: the assistant role; completions: the echoed prompt). */
  opening(): object[];
  /** `logprobs`: entries of the tokens since the last delta, when the request asked for them. */
  delta(text: string, logprobs?: TokenLogprob[]): object;
  finish(reason: FinishReason): object;
  /** The last chunk when the client asked for usage: `choices: []`. */
  usage(usage: Usage): object;
  /** `logprobs`: every token's entry, when the request asked for them. */
  body(text: string, reason: FinishReason, usage: Usage, logprobs?: TokenLogprob[]): object;
}

export function chatFrames(head: Head, includeUsage: boolean): Frames {
  return {
    opening: () => [
      chatChunk(head, 0, { role: 'assistant', content: '' }, null, undefined, includeUsage),
    ],
    delta: (text, logprobs) => chatChunk(head, 0, { content: text }, null, logprobs, includeUsage),
    finish: (reason) => chatChunk(head, 0, {}, reason, undefined, includeUsage),
    usage: (usage) => chatUsageChunk(head, usage),
    body: (text, reason, usage, logprobs): ChatCompletion => ({
      ...head,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: text },
          logprobs: logprobs ? { content: logprobs, refusal: null } : null,
          finish_reason: reason,
        },
      ],
      usage,
    }),
  };
}

export function completionFrames(head: Head, includeUsage: boolean, echo: string): Frames {
  const chunk = (
    text: string,
    finish: FinishReason,
    logprobs: Completion['choices'][0]['logprobs'] = null,
  ) => completionChunk(head, 0, text, finish, logprobs, includeUsage);
  let offset = echo.length; // text_offset of the next streamed token, as the Worker counts it
  return {
    opening: () => (echo ? [chunk(echo, null)] : []),
    delta: (text, logprobs) => {
      const lp = logprobs ? completionLogprobs(logprobs, offset) : null;
      offset += text.length;
      return chunk(text, null, lp);
    },
    finish: (reason) => chunk('', reason),
    usage: (usage) => completionUsageChunk(head, usage),
    body: (text, reason, usage, logprobs): Completion => ({
      ...head,
      object: 'text_completion',
      choices: [
        {
          index: 0,
          text: echo + text,
          logprobs: logprobs ? completionLogprobs(logprobs, echo.length) : null,
          finish_reason: reason,
        },
      ],
      usage,
    }),
  };
}
