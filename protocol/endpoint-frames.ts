// The two endpoints' `Shapes` (protocol/frames.ts): chat and text completions as SSE chunks or one
// JSON body, the same for an edge generation (routes/), an origin's answer replayed or assembled by
// the dispatcher (dispatch/) and the origin server (origin/server/).
import { chatChunk, chatUsageChunk, completionChunk, completionUsageChunk } from './frames';
import type { Choice, Head, Shapes } from './frames';
import { completionLogprobs, joinLogprobs } from './logprobs';
import type { ChatCompletion, Completion, CompletionLogprobs, FinishReason } from './responses';

/** Chat completions; `includeUsage`: every chunk says `usage: null` before the usage chunk. */
export function chatFrames(head: Head, includeUsage: boolean): Shapes {
  const chunk = (
    delta: Parameters<typeof chatChunk>[2],
    finish: FinishReason,
    index: number,
    logprobs?: Parameters<typeof chatChunk>[4],
  ) => chatChunk(head, index, delta, finish, logprobs, includeUsage);
  return {
    opening: (index) => [chunk({ role: 'assistant', content: '' }, null, index)],
    delta: (text, logprobs, index) => chunk({ content: text }, null, index, logprobs),
    reasoning: (text, index, logprobs) =>
      chunk({ content: null, reasoning_content: text }, null, index, logprobs),
    finish: (reason, usage, index) => ({
      ...chunk({}, reason, index),
      ...(usage ? { usage } : {}),
    }),
    usage: (usage) => chatUsageChunk(head, usage),
    toolCall: (delta, index) => chunk({ content: null, tool_calls: [delta] }, null, index),
    body: (choices: Choice[], usage): ChatCompletion => ({
      ...head,
      object: 'chat.completion',
      choices: choices.map((choice, index) => ({
        index,
        message: {
          role: 'assistant' as const,
          content: choice.toolCalls?.length && !choice.text ? null : choice.text,
          ...(choice.toolCalls?.length ? { tool_calls: choice.toolCalls } : {}),
          ...(choice.reasoning ? { reasoning_content: choice.reasoning } : {}),
        },
        logprobs: choice.logprobs ? { content: choice.logprobs, refusal: null } : null,
        finish_reason: choice.finishReason,
      })),
      usage,
    }),
  };
}

/**
 * Text completions; `echo` (the prompt, when the request asked for it) opens each choice, with its
 * tokens' logprobs (`echoLp`) when the request asked for logprobs too.
 */
export function completionFrames(
  head: Head,
  includeUsage: boolean,
  echo: string,
  echoLp: CompletionLogprobs | null = null,
): Shapes {
  const offsets: number[] = []; // per choice: text_offset of its next streamed token
  const chunk = (
    text: string,
    finish: FinishReason,
    index: number,
    logprobs: Completion['choices'][0]['logprobs'] = null,
  ) => completionChunk(head, index, text, finish, logprobs, includeUsage);
  const bodyLogprobs = (choice: Choice): CompletionLogprobs | null => {
    const own = choice.logprobs ? completionLogprobs(choice.logprobs, echo.length) : null;
    return echoLp && own ? joinLogprobs(echoLp, own) : (own ?? echoLp);
  };
  return {
    opening: (index) => {
      offsets[index] = echo.length;
      return echo ? [chunk(echo, null, index, echoLp)] : [];
    },
    delta: (text, logprobs, index) => {
      const lp = logprobs ? completionLogprobs(logprobs, offsets[index]) : null;
      offsets[index] += text.length;
      return chunk(text, null, index, lp);
    },
    finish: (reason, usage, index) => ({
      ...chunk('', reason, index),
      ...(usage ? { usage } : {}),
    }),
    usage: (usage) => completionUsageChunk(head, usage),
    body: (choices: Choice[], usage): Completion => ({
      ...head,
      object: 'text_completion',
      choices: choices.map((choice, index) => ({
        index,
        text: echo + choice.text,
        logprobs: bodyLogprobs(choice),
        finish_reason: choice.finishReason,
      })),
      usage,
    }),
  };
}
