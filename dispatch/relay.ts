// Relaying an origin's generation to the client. A content frame is passed through as text with
// our id, model and usage field (frame-pass.ts: never parsed, so a token costs a few string ops);
// finishes, errors and usage chunks are parsed. The finish frame waits only for the usage that
// follows it, so the stream ends with the cost, as the edge's streams do. With `n` > 1 each
// choice's finish goes on when the next one arrives; the last one carries the cost. What was said
// (text, tool calls, reasoning) is assembled from the frames only when a replay needs it.
import { sseResponse } from '../protocol/sse';
import { pipedResponse } from './relay-piped';
import type { RelayContext } from './relay-types';
import { StreamWalk } from './stream-walk';
import type { OpenedUpstream } from './upstream';

export { normalizeUsage } from './assemble';
export { collect } from './collect';
export * from './relay-types';

/** The relayed stream as a Response. A client that goes away ends the upstream request at once. */
export function relayResponse(
  up: OpenedUpstream,
  ctx: RelayContext,
  errorFrame: (err: unknown) => object,
  headers: Record<string, string>,
): Response {
  if (up.piped) return pipedResponse(up, ctx, errorFrame, headers);
  const state = { cancelled: false };
  const source = relay(up, ctx, errorFrame, state);
  return sseResponse(source, headers, async () => {
    state.cancelled = true;
    // Closing the upstream wakes a relay waiting on the origin; it then settles as disconnected.
    up.close();
    await source.return(undefined);
  });
}

/**
 * SSE text for the client, one write per upstream read (frames held before the first output go
 * with it); an error after the first byte becomes an error frame.
 */
export async function* relay(
  up: OpenedUpstream,
  ctx: RelayContext,
  errorFrame: (err: unknown) => object,
  state = { cancelled: false },
): AsyncGenerator<string> {
  const walk = new StreamWalk(ctx);
  let settled = false;
  try {
    let out = '';
    for (const data of up.first) out += walk.take(data);
    // Marked as each write is handed to the body: the time the client is sent output.
    if (out) {
      ctx.latency?.mark();
      yield out;
    }
    void up.heldEnd?.(); // a client-ready stream read here: its end, asked now, comes when it is over
    while (!walk.done) {
      const data = await up.next();
      if (data === null) break;
      out = walk.take(data);
      for (const more of up.drain()) out += walk.take(more);
      if (out) {
        ctx.latency?.mark();
        yield out;
      }
    }
    // a client-ready stream read here (its first read ended inside a frame): its end is held
    if (up.heldEnd && !walk.finish) {
      out = '';
      for (const data of await up.heldEnd()) out += walk.take(data);
      if (out) yield out;
    }
    if (!walk.finish) throw new Error('the origin ended the stream before finishing');
    settled = true;
    yield await walk.ending();
  } catch (err) {
    if (settled) throw err;
    settled = true;
    if (state.cancelled) {
      await ctx.settle('disconnected', walk.result());
      return;
    }
    console.error(`relay ${ctx.id} failed mid-stream:`, err);
    await ctx.settle('failed', walk.result());
    yield `data: ${JSON.stringify(errorFrame(err))}\n\n`;
  } finally {
    up.close();
    // The client went away between frames: it pays for the prompt and the tokens it was sent.
    if (!settled) await ctx.settle('disconnected', walk.result());
  }
}
