// Server-sent events, decoded from a byte stream per the WHATWG rules: lines end in \n, \r\n or \r
// (a \r\n may be split across chunks, as may a multi-byte character), `data:` lines of one event
// are joined by \n, a blank line dispatches, lines starting with ':' are comments.

export interface ServerSentEvent {
  event: string | null;
  data: string;
  id: string | null;
}

/** Splits text into lines across chunk boundaries. */
export class LineDecoder {
  private buffer = '';
  private pendingCR = false;

  push(text: string): string[] {
    if (this.pendingCR && text.startsWith('\n')) text = text.slice(1);
    this.pendingCR = false;
    const parts = (this.buffer + text).split(/\r\n|\r|\n/);
    this.buffer = parts.pop() ?? '';
    // A chunk ending in \r has ended a line, but the \n that may follow belongs to it.
    if (text.endsWith('\r')) this.pendingCR = true;
    return parts;
  }

  flush(): string[] {
    const rest = this.buffer;
    this.buffer = '';
    return rest ? [rest] : [];
  }
}

/** Accumulates lines into events. */
export class SSEDecoder {
  private data: string[] = [];
  private event: string | null = null;
  private id: string | null = null;

  line(line: string): ServerSentEvent | null {
    if (line === '') {
      if (this.data.length === 0 && this.event === null) return null;
      const sse = { event: this.event, data: this.data.join('\n'), id: this.id };
      this.data = [];
      this.event = null;
      return sse;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    return null;
  }
}

/**
 * Yields the events of an SSE byte stream; a trailing event without its blank line is still yielded.
 * When `signal` aborts, the body is cancelled and the iteration ends quietly.
 */
export async function* iterSSE(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const text = new TextDecoder();
  const lines = new LineDecoder();
  const sse = new SSEDecoder();
  // Not every fetch ties the body to the request's signal (an in-process Worker does not): cancel it here.
  const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      if (signal?.aborted) return;
      const { done, value } = await readOrAbort(reader, signal);
      if (signal?.aborted) return;
      const chunk = done
        ? [...lines.push(text.decode()), ...lines.flush(), '']
        : lines.push(text.decode(value, { stream: true }));
      for (const line of chunk) {
        const event = sse.line(line);
        if (event) yield event;
      }
      if (done) return;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // Early exit (break, abort, error): cancel the body so the server stops generating. Not awaited:
    // a body that is shared (tee'd) settles its cancel only when every branch is cancelled.
    reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** A read that an abort ends (as `done`) even where the body ignores cancellation. */
async function readOrAbort(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  signal?: AbortSignal,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  try {
    return await reader.read();
  } catch (err) {
    if (signal?.aborted) return { done: true, value: undefined };
    throw err;
  }
}
