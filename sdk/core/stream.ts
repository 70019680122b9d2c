// A streamed response: an async iterable of parsed `data:` frames, ending at `data: [DONE]`.
// `abort()` (or leaving a `for await` early) cancels the HTTP body, which stops generation on the
// server, and ends the iteration quietly. An error frame sent after the stream began is thrown as
// an APIError, never retried: replaying a started stream could generate and bill twice.
import { APIError, type WireError } from './errors';
import { iterSSE } from './sse';

export class Stream<Item> implements AsyncIterable<Item> {
  private consumed = false;

  constructor(
    private readonly iterate: () => AsyncGenerator<Item>,
    /** Aborting it cancels the request and the body. */
    readonly controller: AbortController,
    /** The HTTP response, for its headers (`x-request-id`, `x-served-by`, cost headers). */
    readonly response: Response,
  ) {}

  static fromSSEResponse<Item>(response: Response, controller: AbortController): Stream<Item> {
    async function* iterate(): AsyncGenerator<Item> {
      if (!response.body)
        throw new APIError(
          undefined,
          undefined,
          'The streamed response has no body.',
          response.headers,
        );
      for await (const sse of iterSSE(response.body, controller.signal)) {
        if (sse.data === '[DONE]') return;
        if (sse.data === '') continue;
        const frame = parseFrame(sse.data, response.headers);
        if (sse.event === 'error' || isErrorFrame(frame)) {
          const error = isErrorFrame(frame) ? frame.error : undefined;
          throw new APIError(
            undefined,
            error,
            error ? undefined : `The stream failed: ${sse.data}`,
            response.headers,
          );
        }
        yield frame as Item;
      }
    }
    return new Stream(iterate, controller, response);
  }

  get requestId(): string | null {
    return this.response.headers.get('x-request-id');
  }

  /** Where the request ran, e.g. `edge:stories260k` or `origin:<name>`. */
  get servedBy(): string | null {
    return this.response.headers.get('x-served-by');
  }

  /** Stops the stream: the body is cancelled and the server stops generating. */
  abort(reason?: unknown): void {
    this.controller.abort(reason);
  }

  [Symbol.asyncIterator](): AsyncIterator<Item> {
    if (this.consumed)
      throw new Error(
        'Cannot iterate over a consumed stream; read it once (or collect it into an array).',
      );
    this.consumed = true;
    return this.iterate();
  }

  /** The frames as a `ReadableStream` of newline-delimited JSON, e.g. to hand to a browser. */
  toReadableStream(): ReadableStream<Uint8Array> {
    const iterator = this[Symbol.asyncIterator]();
    const encoder = new TextEncoder();
    return new ReadableStream({
      async pull(controller) {
        const next = await iterator.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(`${JSON.stringify(next.value)}\n`));
      },
      async cancel() {
        await iterator.return?.();
      },
    });
  }
}

function parseFrame(data: string, headers: Headers): unknown {
  try {
    return JSON.parse(data);
  } catch {
    throw new APIError(
      undefined,
      undefined,
      `Could not parse a stream frame as JSON: ${data.slice(0, 200)}`,
      headers,
    );
  }
}

function isErrorFrame(frame: unknown): frame is { error: WireError } {
  return (
    typeof frame === 'object' &&
    frame !== null &&
    'error' in frame &&
    typeof (frame as { error: unknown }).error === 'object'
  );
}
