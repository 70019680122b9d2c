// Server-sent events on the wire, shared by the Worker's routes, the dispatcher's relay and the origin:
// the response headers, one `data:` frame, and a Response whose body is pulled from a frame source.

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
};

/** One frame: JSON data, or a literal such as `[DONE]`. */
export const sseFrame = (data: object | string): string =>
  `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;

/**
 * An SSE body pulled from `source` (each value is one or more whole frames), so nothing is generated
 * ahead of the client (not even one frame: a generation bills what its body handed over). `onCancel` (default: end the source) runs when the client goes away.
 */
export function sseResponse(
  source: AsyncGenerator<string>,
  headers: Record<string, string>,
  onCancel: () => Promise<unknown> = () => source.return(undefined),
): Response {
  const encoder = new TextEncoder();
  // highWaterMark 0: no frame is made before the body's reader (the runtime sending it) asks.
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await source.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      },
      async cancel() {
        await onCancel();
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { headers: { ...SSE_HEADERS, ...headers } });
}
