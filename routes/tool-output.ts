// A generation's output as a chat choice when the request offered tools: the finished text parsed
// into content and `tool_calls` (`finish_reason: "tool_calls"`), and a stream's deltas split into
// content and tool-call chunks (protocol/tool-calls.ts).
import type { Frames } from '../protocol/frames';
import type { LogprobCollector } from '../protocol/logprobs';
import type { FinishReason } from '../protocol/responses';
import { keptCalls, parseToolCalls, type ToolCallStream } from '../protocol/tool-calls';
import type { ChoiceResult, GenerationPlan } from './generation';

export const finishOf = (reason: 'stop' | 'length' | 'abort'): FinishReason =>
  reason === 'length' ? 'length' : 'stop';

/**
 * A finished choice: its text (and a reasoning chat's `reasoning`, protocol/reasoning.ts), or with
 * tools its content and calls (`finish_reason: "tool_calls"`); calls are read from the content only.
 */
export function choiceOf(
  plan: GenerationPlan,
  fields: { text: string; reasoning?: string },
  reason: 'stop' | 'length' | 'abort',
  logprobs: LogprobCollector | null,
  calls?: ToolCallStream,
): ChoiceResult {
  const { text, reasoning } = fields;
  const lp = {
    ...(reasoning !== undefined ? { reasoning } : {}),
    ...(logprobs ? { logprobs: logprobs.all } : {}),
  };
  if (!plan.toolSyntax) return { text, finishReason: finishOf(reason), ...lp };
  // cut by max_tokens: the unfinished call goes back too, as its deltas did (OpenAI's "length")
  const cut = reason === 'length';
  const parsed = calls
    ? { content: calls.content, calls: keptCalls(calls.calls, cut) }
    : parseToolCalls(text, plan.toolSyntax, cut);
  const finishReason = parsed.calls.length && reason === 'stop' ? 'tool_calls' : finishOf(reason);
  return {
    text: parsed.content ?? '',
    finishReason,
    ...(parsed.calls.length ? { toolCalls: parsed.calls } : {}),
    ...lp,
  };
}

/** A content delta or a tool-call delta of a tool-calling stream. */
export const deltaFrame = (
  frames: Frames,
  e: ReturnType<ToolCallStream['push']>[number],
  logprobs: Parameters<Frames['delta']>[1],
  index: number,
): object =>
  'content' in e ? frames.delta(e.content, logprobs, index) : frames.toolCall!(e.toolCall, index);
