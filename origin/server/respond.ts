// A queued sequence answered over HTTP: one JSON body, or an SSE stream. The stream starts only
// once the sequence produced its first event, so a request that fails before any output (queue
// timeout, step failure) still gets a real status code (and retry-after): the dispatcher may retry it
// elsewhere because nothing was sent. After the first byte an error becomes an `error` frame, and
// the stream closes either way. A client that goes away cancels the sequence, which frees its slot.
import { ApiError } from '../../protocol/errors';
import type { Sequence, SequenceEvent } from '../scheduler/sequence';
import type { Frames, Shapes } from '../../protocol/frames';
import { SSE_HEADERS, sseFrame } from '../../protocol/sse';

/** Waits for the whole generation and returns the JSON body; throws its error. */
export async function collect(seq: Sequence, frames: Shapes): Promise<object> {
  let text = '';
  for (;;) {
    const ev = await seq.events.next();
    if (ev.kind === 'text') text += ev.text;
    else if (ev.kind === 'error') throw ev.error;
    else
      return frames.body(
        [
          {
            text,
            finishReason: ev.finishReason,
            ...(seq.req.sampling.logprobs === undefined ? {} : { logprobs: seq.logprobs }),
          },
        ],
        ev.usage,
      );
  }
}

/** Streams the generation as SSE; `cancel` is called when the client stops reading. */
export async function stream(
  seq: Sequence,
  frames: Frames,
  includeUsage: boolean,
  headers: Record<string, string>,
  cancel: () => void,
): Promise<Response> {
  const first = await seq.events.next();
  if (first.kind === 'error') throw first.error;
  const encoder = new TextEncoder();
  let pending: string[] = [
    ...frames.opening(0).map((f) => sseFrame(f)),
    ...framesOf(first, frames, includeUsage),
  ];
  let ended = first.kind === 'end';
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (pending.length === 0 && !ended) {
        const ev = await seq.events.next();
        pending = framesOf(ev, frames, includeUsage);
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

function framesOf(ev: SequenceEvent, frames: Frames, includeUsage: boolean): string[] {
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
  const out = [sseFrame(frames.finish(ev.finishReason, undefined, 0))];
  if (includeUsage) out.push(sseFrame(frames.usage(ev.usage)));
  out.push(sseFrame('[DONE]'));
  return out;
}
