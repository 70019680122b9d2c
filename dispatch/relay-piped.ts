// A client-ready stream relayed without reading it (origin/server/relay-ends.ts). The frames up to the
// first output were read to choose the origin; the rest of the body is piped to the client by workerd
// itself (IdentityTransformStream: its pumps run outside JS, so a token costs the Worker no CPU).
// The origin holds the stream's end — finish frames, an error, the usage chunk — and hands it over
// once the body is done; the end then goes through the same walk as a read stream's, so the client
// gets the same bytes: the finish with the cost, the usage chunk, [DONE].
import { SSE_HEADERS } from '../protocol/sse';
import type { RelayContext } from './relay-types';
import { StreamWalk } from './stream-walk';
import { UpstreamError } from './upstream-errors';
import type { OpenedUpstream } from './upstream';

interface BytePipe {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

/** workerd's native byte pipe; a standard TransformStream where there is none (Node). */
function bytePipe(): BytePipe {
  const Native = (globalThis as { IdentityTransformStream?: new () => BytePipe })
    .IdentityTransformStream;
  return Native ? new Native() : new TransformStream<Uint8Array, Uint8Array>();
}

/** How long a stream that failed waits for its end (the usage of what was generated). */
const END_AFTER_FAILURE_MS = 5_000;

/** The piped stream as a Response. */
export function pipedResponse(
  up: OpenedUpstream,
  ctx: RelayContext,
  errorFrame: (err: unknown) => object,
  headers: Record<string, string>,
): Response {
  const piped = up.piped!;
  const walk = new StreamWalk(ctx);
  const { readable, writable } = bytePipe();
  const encoder = new TextEncoder();
  const write = async (text: string, close = false) => {
    const writer = writable.getWriter();
    try {
      await writer.write(encoder.encode(text));
      if (close) await writer.close();
    } finally {
      writer.releaseLock();
    }
  };
  const done = (async () => {
    let settled = false;
    try {
      let out = '';
      for (const data of up.first) out += walk.take(data);
      ctx.latency?.mark();
      await write(out);
      void piped.end(); // asked now, answered when the body is over
      await piped.body.pipeTo(writable, { preventClose: true, preventAbort: true });
      ctx.latency?.mark(); // the last token handed on
      let tail = '';
      for (const data of await piped.end()) tail += walk.take(data);
      if (!walk.finish) throw new Error('the origin ended the stream before finishing');
      settled = true;
      await write(tail + (await walk.ending()), true);
    } catch (err) {
      if (settled) return; // the client left after the stream was billed
      // an origin still generating for a client that left stops now (a pipe that failed let go of it)
      void piped.body.cancel().catch(() => {});
      // What the origin generated (a cancelled or failed stream still holds its usage), then why.
      let why = piped.timedOut()
        ? new UpstreamError(504, 'The origin did not finish in time.', 'upstream_timeout')
        : err;
      const end = await Promise.race([
        piped.end().catch(() => []),
        new Promise<string[]>((r) => setTimeout(() => r([]), END_AFTER_FAILURE_MS)),
      ]);
      try {
        for (const data of end) walk.take(data);
      } catch (e) {
        why = e; // the origin's own error frame says more than a broken pipe
      }
      // A client still there gets the error; one that left cannot (and pays for what was made).
      const told = await write(`data: ${JSON.stringify(errorFrame(why))}\n\n`, true).then(
        () => true,
        () => false,
      );
      if (told) console.error(`relay ${ctx.id} failed mid-stream:`, why);
      await ctx.settle(told ? 'failed' : 'disconnected', walk.result());
    } finally {
      up.close();
    }
  })();
  ctx.waitUntil?.(done);
  return new Response(readable, { headers: { ...SSE_HEADERS, ...headers } });
}
