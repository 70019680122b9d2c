// The incremental split of a generated stream into content deltas and OpenAI's tool-call deltas
// (protocol/tool-calls.ts has the syntaxes and the parse of a finished text, which uses this).
import type { ToolSyntax } from './tool-calls';
import type { ToolCall } from './tool-requests';

/** A call id as OpenAI's: `call_` and 24 random alphanumerics. */
export function toolCallId(): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return 'call_' + Array.from(bytes, (b) => abc[b % abc.length]).join('');
}

/** One streamed tool-call delta, OpenAI's shape. */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments: string };
}

export type StreamEvent = { content: string } | { toolCall: ToolCallDelta };

/**
 * Splits generated text as it arrives: content until the call prefix (a possible partial prefix
 * is held back), then for each call a first delta (id, name, `arguments: ""`) once the name is
 * known and argument fragments as they come. `calls` has the finished calls.
 */
export class ToolCallStream {
  readonly calls: ToolCall[] = [];
  content = '';
  private buf = '';
  private mode: 'content' | 'head' | 'args' | 'tail' | 'between' = 'content';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private args = '';

  constructor(private readonly syntax: ToolSyntax) {}

  push(text: string): StreamEvent[] {
    this.buf += text;
    const out: StreamEvent[] = [];
    for (let progress = true; progress;) progress = this.step(out);
    return out;
  }

  /** The end of the text: held-back content that never became a call is content after all. */
  flush(): StreamEvent[] {
    if (this.mode !== 'content' || !this.buf) return [];
    const content = this.buf;
    this.buf = '';
    this.content += content;
    return [{ content }];
  }

  private step(out: StreamEvent[]): boolean {
    const { prefix, suffix, separator } = this.syntax;
    switch (this.mode) {
      case 'content': {
        const at = this.buf.indexOf(prefix);
        const cut = at >= 0 ? at : this.buf.length - partialSuffix(this.buf, prefix);
        if (cut > 0) {
          const content = this.buf.slice(0, cut);
          this.content += content;
          out.push({ content });
          this.buf = this.buf.slice(cut);
        }
        if (at < 0) return false;
        this.buf = this.buf.slice(prefix.length);
        this.mode = 'head';
        return true;
      }
      case 'head': {
        const m = /^\s*\{\s*"name"\s*:\s*("(?:[^"\\]|\\.)*")\s*,\s*"arguments"\s*:\s*/.exec(
          this.buf,
        );
        if (!m) return false;
        const name = JSON.parse(m[1]) as string;
        const id = toolCallId();
        this.calls.push({ id, type: 'function', function: { name, arguments: '' } });
        out.push({
          toolCall: {
            index: this.calls.length - 1,
            id,
            type: 'function',
            function: { name, arguments: '' },
          },
        });
        this.buf = this.buf.slice(m[0].length);
        this.mode = 'args';
        this.args = '';
        this.depth = 0;
        return true;
      }
      case 'args': {
        // whitespace before the value belongs to the syntax, however the text was cut
        if (!this.args) {
          this.buf = this.buf.replace(/^\s+/, '');
          if (!this.buf) return false;
        }
        const end = this.scan();
        const piece = this.buf.slice(0, end < 0 ? this.buf.length : end);
        this.buf = this.buf.slice(piece.length);
        if (piece) {
          this.args += piece;
          this.calls.at(-1)!.function.arguments = this.args;
          out.push({
            toolCall: { index: this.calls.length - 1, function: { arguments: piece } },
          });
        }
        if (end < 0) return false;
        this.mode = 'tail';
        return true;
      }
      case 'tail': {
        const close = /^\s*\}/.exec(this.buf);
        if (!close) return false;
        const rest = this.buf.slice(close[0].length);
        if (rest.length < suffix.length) return false;
        this.buf = rest.slice(suffix.length);
        this.mode = 'between';
        return true;
      }
      case 'between': {
        // after a call: the next one, or text; what may still become the next call waits (and is
        // dropped if the text ends there), so a text cut anywhere splits as the whole text does
        const next = separator + prefix;
        if (this.buf.startsWith(next)) {
          this.buf = this.buf.slice(next.length);
          this.mode = 'head';
          return true;
        }
        if (next.startsWith(this.buf)) return false;
        this.mode = 'content';
        return true;
      }
    }
  }

  /** Index in buf just past the arguments' JSON value, or -1 while it goes on. */
  private scan(): number {
    for (let i = 0; i < this.buf.length; i++) {
      const ch = this.buf[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (ch === '\\') this.escaped = true;
        else if (ch === '"') this.inString = false;
      } else if (ch === '"') this.inString = true;
      else if (ch === '{' || ch === '[') this.depth++;
      else if (ch === '}' || ch === ']') {
        if (--this.depth === 0) return i + 1;
      }
    }
    return -1;
  }
}

/** Length of the longest end of `text` that is a proper start of `prefix`. */
function partialSuffix(text: string, prefix: string): number {
  for (let n = Math.min(text.length, prefix.length - 1); n > 0; n--)
    if (prefix.startsWith(text.slice(text.length - n))) return n;
  return 0;
}
