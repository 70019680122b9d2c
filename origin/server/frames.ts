// The wire shapes of the origin's answers, from protocol/: chat and text completions as one JSON body
// or as SSE chunks. Same fields as the Worker's (routes/), so the dispatcher relays them unchanged.
import type { ChatCompletion, ChatCompletionChunk, Completion, FinishReason } from '../../protocol/responses';
import type { Usage } from '../../protocol/usage';

export const FINGERPRINT = 'fp_origin_reference';

export interface Head {
  id: string;
  created: number;
  model: string;
  system_fingerprint: string;
}

/** How one endpoint shapes its output. */
export interface Frames {
  /** Chunks before the first token (chat: the assistant role; completions: the echoed prompt). */
  opening(): object[];
  delta(text: string): object;
  finish(reason: FinishReason): object;
  /** The last chunk when the client asked for usage: `choices: []`. */
  usage(usage: Usage): object;
  body(text: string, reason: FinishReason, usage: Usage): object;
}

export function chatFrames(head: Head, includeUsage: boolean): Frames {
  const chunk = (delta: ChatCompletionChunk['choices'][0]['delta'], finish: FinishReason): ChatCompletionChunk => ({
    ...head,
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  });
  return {
    opening: () => [chunk({ role: 'assistant', content: '' }, null)],
    delta: (text) => chunk({ content: text }, null),
    finish: (reason) => chunk({}, reason),
    usage: (usage): ChatCompletionChunk => ({ ...head, object: 'chat.completion.chunk', choices: [], usage }),
    body: (text, reason, usage): ChatCompletion => ({
      ...head,
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: reason }],
      usage,
    }),
  };
}

export function completionFrames(head: Head, includeUsage: boolean, echo: string): Frames {
  const chunk = (text: string, finish: FinishReason): Completion => ({
    ...head,
    object: 'text_completion',
    choices: [{ index: 0, text, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  });
  return {
    opening: () => (echo ? [chunk(echo, null)] : []),
    delta: (text) => chunk(text, null),
    finish: (reason) => chunk('', reason),
    usage: (usage): Completion => ({ ...head, object: 'text_completion', choices: [], usage }),
    body: (text, reason, usage): Completion => ({
      ...head,
      object: 'text_completion',
      choices: [{ index: 0, text: echo + text, logprobs: null, finish_reason: reason }],
      usage,
    }),
  };
}
