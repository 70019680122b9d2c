// Sampling room: the constraint a generation may carry (engine/grammar's TokenMatcher, or a lazy one
// that leaves the text free until a trigger appears, as llama.cpp's grammar triggers do), and each
// tokenizer's grammar vocabulary, built once per tokenizer (per isolate / process) and kept.
import { TokenMatcher, vocabBytes, type Grammar, type Vocab } from '../grammar/index';
import type { TextTokenizer } from '../tokenizers/types';

/** What the sampler drives: a mask before each token, then the token. TokenMatcher is one. */
export interface Constraint {
  readonly maskWords: number;
  /** False while the next token is unconstrained (a lazy grammar before its trigger). */
  active?(): boolean;
  /** Sets the allowed tokens' bits; false at a dead end (no token allowed). */
  fillMask(mask: Uint32Array): boolean;
  accept(token: number): boolean;
  /** Nothing more may follow: the generation ends here. */
  isFinished(): boolean;
}

const vocabs = new WeakMap<TextTokenizer, Vocab>();

/** The tokenizer's grammar vocabulary (engine/grammar/vocab.ts), built on first use and cached. */
export function vocabOf(tokenizer: TextTokenizer): Vocab {
  let v = vocabs.get(tokenizer);
  if (!v) vocabs.set(tokenizer, (v = vocabBytes(tokenizer)));
  return v;
}

/**
 * Free text until `trigger` appears in the output, then the grammar (which starts with the trigger
 * text) from the trigger on, to its end. A tool call in `tool_choice: "auto"`: the model may answer
 * in words, and a call it starts is constrained until it is complete.
 */
export class LazyMatcher implements Constraint {
  private matcher: TokenMatcher | null = null;
  private tail = new Uint8Array(0);
  private readonly trigger: Uint8Array;
  private readonly eos: Set<number>;

  constructor(
    private readonly grammar: Grammar,
    readonly vocab: Vocab,
    trigger: string,
  ) {
    this.trigger = new TextEncoder().encode(trigger);
    this.eos = new Set(vocab.eosIds);
  }

  get maskWords(): number {
    return (this.vocab.size + 31) >>> 5;
  }

  /** The trigger appeared: the rest is the grammar's. */
  active(): boolean {
    return this.matcher !== null;
  }

  /**
   * Before the trigger every token is allowed but one that would complete the trigger and go on
   * with text the grammar rejects (`<tool_call>x`): a started call is held to the grammar from
   * its first byte. Only tokens holding the trigger's last byte can complete it.
   */
  fillMask(mask: Uint32Array): boolean {
    if (this.matcher) return this.matcher.fillMask(mask);
    mask.fill(0xffffffff);
    this.candidates ??= this.completers();
    for (const id of this.candidates) {
      const at = indexOf(this.joined(id), this.trigger);
      if (at >= 0 && !this.follows(this.joined(id).subarray(at)))
        mask[id >>> 5] &= ~(1 << (id & 31));
    }
    return true;
  }

  private candidates: number[] | null = null;
  private probe: TokenMatcher | null = null;

  private completers(): number[] {
    const last = this.trigger[this.trigger.length - 1];
    const ids: number[] = [];
    this.vocab.tokens.forEach((t, id) => {
      if (!this.eos.has(id) && t.includes(last)) ids.push(id);
    });
    return ids;
  }

  private joined(id: number): Uint8Array {
    const bytes = this.vocab.tokens[id];
    const buf = new Uint8Array(this.tail.length + bytes.length);
    buf.set(this.tail);
    buf.set(bytes, this.tail.length);
    return buf;
  }

  /** The grammar accepts these bytes from its start. */
  private follows(bytes: Uint8Array): boolean {
    this.probe ??= new TokenMatcher(this.grammar, this.vocab);
    if (!this.probe.acceptBytes(bytes)) return false;
    this.probe.rollback(1);
    return true;
  }

  accept(token: number): boolean {
    if (this.matcher) return this.matcher.accept(token);
    const bytes = this.vocab.tokens[token];
    if (this.eos.has(token) || !bytes?.length) return true;
    const buf = this.joined(token);
    const at = indexOf(buf, this.trigger);
    if (at < 0) {
      this.tail = buf.slice(Math.max(0, buf.length - this.trigger.length + 1));
      return true;
    }
    const m = new TokenMatcher(this.grammar, this.vocab);
    // fillMask let this token through only if its text from the trigger on follows the grammar
    if (!m.acceptBytes(buf.subarray(at))) return false;
    this.matcher = m;
    return true;
  }

  isFinished(): boolean {
    return this.matcher?.isFinished() ?? false;
  }
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
