// The end of a generation's stream, and a finished generation streamed again: an idempotent retry
// (on the edge or from an origin) or an origin's JSON answer asked for as SSE gets the same frames as
// a live stream, built by the endpoint's `Frames`.
import type { Choice, Frames } from './frames';
import { sseFrame, sseResponse } from './sse';
import type { Usage } from './usage';

/** Choice 0 at the top level (and every choice in `choices` when n > 1), with the usage of them all. */
export interface FinishedGeneration extends Choice {
  usage: Usage;
  choices?: Choice[];
}

/** The last choice's finish frame (with the cost when no usage chunk follows), the usage chunk, [DONE]. */
export function* closingFrames(
  result: FinishedGeneration,
  last: number,
  frames: Frames,
  includeUsage: boolean,
): Generator<string> {
  const reason = (result.choices?.[last] ?? result).finishReason;
  yield sseFrame(
    frames.finish(reason, includeUsage || !result.usage.cost ? undefined : result.usage, last),
  );
  if (includeUsage) yield sseFrame(frames.usage(result.usage));
  yield sseFrame('[DONE]');
}

/** A finished generation streamed in the same frames as a live one. */
export function replayStream(
  result: FinishedGeneration,
  frames: Frames,
  includeUsage: boolean,
  headers: Record<string, string>,
): Response {
  async function* replay(): AsyncGenerator<string> {
    const choices = result.choices ?? [result];
    for (const [i, choice] of choices.entries()) {
      for (const f of frames.opening(i)) yield sseFrame(f);
      if (choice.reasoning && frames.reasoning)
        yield sseFrame(frames.reasoning(choice.reasoning, i));
      if (choice.text || choice.logprobs?.length)
        yield sseFrame(frames.delta(choice.text, choice.logprobs, i));
      for (const [index, call] of (choice.toolCalls ?? []).entries())
        if (frames.toolCall) yield sseFrame(frames.toolCall({ index, ...call }, i));
      if (i < choices.length - 1) yield sseFrame(frames.finish(choice.finishReason, undefined, i));
    }
    yield* closingFrames(result, choices.length - 1, frames, includeUsage);
  }
  return sseResponse(replay(), headers);
}
