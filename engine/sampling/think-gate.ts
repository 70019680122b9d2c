// Sampling room: a reasoning model's constraint. The think block is the model's own: no grammar
// masks it (as vLLM applies structured output only once its reasoning parser sees the end of the
// reasoning). From the first token after `</think>` on, the request's constraint (response_format,
// tools) holds as it would for a plain model.
import type { Vocab } from '../grammar/index';
import type { Constraint } from './constraint';

export const THINK_END = '</think>';
const LT = 0x3c;

export class ThinkGate implements Constraint {
  private readonly end: Uint8Array;
  /** The last bytes of the think text: a `</think>` split across tokens is still seen. */
  private tail = new Uint8Array(0);
  private open = false;
  /** Tokens holding `</think>`'s last byte (the only ones that can end the block), and those
   *  holding all of it (the only ones that can while the tail holds no `<`). */
  private closers: { any: number[]; whole: number[] } | null = null;

  constructor(
    private readonly inner: Constraint,
    private readonly vocab: Vocab,
  ) {
    this.end = new TextEncoder().encode(THINK_END);
  }

  get maskWords(): number {
    return this.inner.maskWords;
  }

  /** After `</think>` as the inner constraint says; before it, masking keeps the block's end clean. */
  active(): boolean {
    return !this.open || (this.inner.active?.() ?? true);
  }

  /**
   * Inside the think block every token is allowed but one that would close it and go on with more
   * text in the same token: the answer's first byte must be the inner constraint's to allow.
   */
  fillMask(mask: Uint32Array): boolean {
    if (this.open) return this.inner.fillMask(mask);
    mask.fill(0xffffffff);
    this.closers ??= this.closingIds();
    for (const id of this.tail.includes(LT) ? this.closers.any : this.closers.whole) {
      const at = indexOf(this.joined(id), this.end);
      if (at >= 0 && at + this.end.length < this.joined(id).length)
        mask[id >>> 5] &= ~(1 << (id & 31));
    }
    return true;
  }

  accept(token: number): boolean {
    if (this.open) return this.inner.accept(token);
    const bytes = this.vocab.tokens[token];
    if (!bytes?.length) return true;
    const buf = this.joined(token);
    const at = indexOf(buf, this.end);
    if (at >= 0) {
      // fillMask allowed this token only if it ends with `</think>`; sampled without a mask
      // (greedy past the gate) text after it would escape the grammar, so it is refused.
      if (at + this.end.length < buf.length) return false;
      this.open = true;
      this.tail = new Uint8Array(0);
      return true;
    }
    this.tail = buf.slice(Math.max(0, buf.length - this.end.length + 1));
    return true;
  }

  /** A think block never finishes the answer: the inner constraint's text must follow. */
  isFinished(): boolean {
    return this.open && this.inner.isFinished();
  }

  private closingIds(): { any: number[]; whole: number[] } {
    const last = this.end[this.end.length - 1];
    const any: number[] = [];
    const whole: number[] = [];
    this.vocab.tokens.forEach((t, id) => {
      if (!t.includes(last)) return;
      any.push(id);
      if (indexOf(t, this.end) >= 0) whole.push(id);
    });
    return { any, whole };
  }

  private joined(id: number): Uint8Array {
    const bytes = this.vocab.tokens[id];
    const buf = new Uint8Array(this.tail.length + bytes.length);
    buf.set(this.tail);
    buf.set(bytes, this.tail.length);
    return buf;
  }
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
