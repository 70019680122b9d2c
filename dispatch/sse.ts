// Server-sent events from a byte stream, one event's `data` at a time, as soon as its blank line
// arrives: nothing is held back but the unfinished tail of the last read.

export class SseReader {
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private readonly events: string[] = [];
  private done = false;

  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {
    // A connection lost mid-stream rejects `closed` too; next() reports it, so this copy is handled.
    reader.closed.catch(() => {});
  }

  /** The next event's data (multi-line data joined by "\n"), or null at the end of the stream. */
  async next(): Promise<string | null> {
    while (this.events.length === 0) {
      if (this.done) return null;
      const { value, done } = await this.reader.read();
      if (done) {
        this.done = true;
        this.buffer += this.decoder.decode();
        // A last event without its blank line still counts (some servers end that way).
        this.split(true);
      } else {
        this.buffer += this.decoder.decode(value, { stream: true });
        this.split(false);
      }
    }
    return this.events.shift()!;
  }

  /** Events already received, without waiting for more (a relay sends them on in one write). */
  drain(): string[] {
    return this.events.splice(0);
  }

  /**
   * Hands the rest of the stream back as bytes (a relay that pipes it on untouched): the events
   * already split, and the reader's lock released. Null, and nothing changes, when a read ended
   * inside an event (its text is here, not in the stream).
   */
  detach(): string[] | null {
    if (this.done || this.buffer !== '') return null;
    this.reader.releaseLock();
    return this.events.splice(0);
  }

  cancel(reason?: unknown): Promise<void> {
    this.done = true;
    return this.reader.cancel(reason).catch(() => {});
  }

  private split(final: boolean): void {
    if (this.buffer.indexOf('\r') >= 0) this.splitAny();
    else {
      // The usual wire (LF only): a scan for blank lines, no regex.
      let start = 0;
      for (
        let end = this.buffer.indexOf('\n\n');
        end >= 0;
        end = this.buffer.indexOf('\n\n', start)
      ) {
        this.push(this.buffer.slice(start, end));
        start = end + 2;
      }
      if (start > 0) this.buffer = this.buffer.slice(start);
    }
    if (final && this.buffer.trim()) this.push(this.buffer);
    if (final) this.buffer = '';
  }

  /** Any of the line ends SSE allows (CRLF, LF, CR). */
  private splitAny(): void {
    for (;;) {
      const end = /\r\n\r\n|\n\n|\r\r/.exec(this.buffer);
      if (!end) break;
      this.push(this.buffer.slice(0, end.index));
      this.buffer = this.buffer.slice(end.index + end[0].length);
    }
  }

  private push(block: string): void {
    // The usual event: one `data: ` line.
    if (block.startsWith('data: ') && block.indexOf('\n') < 0 && block.indexOf('\r') < 0) {
      this.events.push(block.slice(6));
      return;
    }
    const data: string[] = [];
    for (const line of block.split(/\r\n|\n|\r/)) {
      // Comments (":") and other fields (event, id, retry) carry nothing the relay needs.
      if (line.startsWith('data:')) data.push(line.slice(line[5] === ' ' ? 6 : 5));
    }
    if (data.length) this.events.push(data.join('\n'));
  }
}
