// A queued sequence answered over HTTP: one JSON body, or an SSE stream. The stream starts only
// once the sequence produced its first event, so a request that fails before any output (queue
// timeout, step failure) still gets a real status code (and retry-after): the dispatcher may retry it
// elsewhere because nothing was sent. After the first byte an error becomes an `error` frame, and
// the stream closes either way. A client that goes away cancels the sequence, which frees its slot.
import { ApiError } from '../../protocol/errors';
import type { Sequence, SequenceEvent } from '../scheduler/sequence';
import type { Frames, Shapes } from '../../protocol/frames';
import type { FinishReason } from '../../protocol/responses';
import { SSE_HEADERS, sseFrame } from '../../protocol/sse';
import { parseToolCalls, ToolCallStream, type ToolSyntax } from '../../protocol/tool-calls';

/** Waits for the whole generation and returns the JSON body; throws its error. */
export async function collect(seq: Sequence, frames: Shapes, tools?: ToolSyntax): Promise<object> {
  let text = '';
  for (;;) {
    const ev = await seq.events.next();
    if (ev.kind === 'text') text += ev.text;
    else if (ev.kind === 'error') throw ev.error;
    else {
      const lp = seq.req.sampling.logprobs === undefined ? {} : { logprobs: seq.logprobs };
      if (!tools) return frames.body([{ text, finishReason: ev.finishReason, ...lp }], ev.usage);
      const { content, calls } = parseToolCalls(text, tools);
      const called = calls.length > 0;
      const finishReason: FinishReason =
        called && ev.finishReason === 'stop' ? 'tool_calls' : ev.finishReason;
      const choice = { text: content ?? '', finishReason, ...(called ? { toolCalls: calls } : {}) };
      return frames.body([{ ...choice, ...lp }], ev.usage);
    }
  }
}

/** Streams the generation as SSE; `cancel` is called when the client stops reading. */
export async function stream(
  seq: Sequence,
  frames: Frames,
  includeUsage: boolean,
  headers: Record<string, string>,
  cancel: () => void,
  tools?: ToolSyntax,
): Promise<Response> {
  const first = await seq.events.next();
  if (first.kind === 'error') throw first.error;
  const encoder = new TextEncoder();
  const calls = tools && frames.toolCall ? new ToolCallStream(tools) : undefined;
  const framesOf = (ev: SequenceEvent) => eventFrames(ev, frames, includeUsage, calls);
  let pending: string[] = [...frames.opening(0).map((f) => sseFrame(f)), ...framesOf(first)];
  let ended = first.kind === 'end';
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (pending.length === 0 && !ended) {
        const ev = await seq.events.next();
        pending = framesOf(ev);
        ended = ev.kind !== 'text';
      }
      if (pending.length > 0) controller.enqueue(encoder.encode(pending.join('')));
      pending = [];
      if (ended) controller.close();
    },
    cancel() {
      cancel();
    },
  });
  return new Response(body, { headers: { ...SSE_HEADERS, ...headers } });
}

/** A tool-calling stream's content and tool-call deltas (protocol/tool-calls.ts). */
function callFrames(events: ReturnType<ToolCallStream['push']>, frames: Frames): string[] {
  return events.map((e) =>
    sseFrame(
      'content' in e ? frames.delta(e.content, undefined, 0) : frames.toolCall!(e.toolCall, 0),
    ),
  );
}

function eventFrames(
  ev: SequenceEvent,
  frames: Frames,
  includeUsage: boolean,
  calls?: ToolCallStream,
): string[] {
  if (ev.kind === 'text' && calls) return callFrames(calls.push(ev.text), frames);
  if (ev.kind === 'text') return [sseFrame(frames.delta(ev.text, ev.logprobs, 0))];
  if (ev.kind === 'error')
    return [
      sseFrame(
        (ev.error instanceof ApiError
          ? ev.error
          : new ApiError(500, 'Generation failed.', 'server_error')
        ).toJSON(),
      ),
    ];
  const before = calls ? callFrames(calls.flush(), frames) : [];
  // a stream that made calls and ended on its own ends with `tool_calls`, as OpenAI's
  const reason: FinishReason =
    calls?.calls.length && ev.finishReason === 'stop' ? 'tool_calls' : ev.finishReason;
  const out = [...before, sseFrame(frames.finish(reason, undefined, 0))];
  if (includeUsage) out.push(sseFrame(frames.usage(ev.usage)));
  out.push(sseFrame('[DONE]'));
  return out;
}
