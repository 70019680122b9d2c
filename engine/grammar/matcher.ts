// Grammar room: the per-sequence matcher a sampler drives: fillMask before each token, accept
// after it, rollback for speculative decoding. Masks are computed once per automaton state by a
// trie walk and cached on the grammar, so matchers of one grammar (a batch) share them.
import { DEAD, type Automaton } from './automaton';
import { computeMask, type MaskCache } from './mask';
import type { Grammar } from './grammar';
import type { Vocab } from './vocab';

/**
 * Cached masks per (grammar, vocab) beyond this many bytes (each map) are dropped and recomputed:
 * 4096 states on a 32k vocabulary, 1024 on DeepSeek's 129k.
 */
const MAX_CACHED_MASK_BYTES = 16 << 20;

export class TokenMatcher {
  private readonly automaton: Automaton;
  private readonly masks: MaskCache;
  /** Automaton state after each accepted token; [0] is the start. */
  private readonly states: number[];
  private ended = false;
  private readonly eos: Set<number>;

  constructor(
    grammar: Grammar,
    readonly vocab: Vocab,
  ) {
    this.automaton = grammar.automaton;
    this.masks = grammar.maskCache(vocab);
    this.states = [this.automaton.start];
    this.eos = new Set(vocab.eosIds);
  }

  /** Words in a mask for this vocabulary. */
  get maskWords(): number {
    return (this.vocab.size + 31) >>> 5;
  }

  private get state(): number {
    return this.states[this.states.length - 1];
  }

  /**
   * Sets bit t of `mask` (Uint32Array of maskWords) iff token t may come next. Returns false when
   * no token is allowed: a dead end, possible only where recursion hit maxStack after its last
   * alternative was chosen; the caller should stop the sequence (as for max_tokens).
   */
  fillMask(mask: Uint32Array): boolean {
    if (this.ended) {
      mask.fill(0);
      for (const id of this.vocab.eosIds) mask[id >>> 5] |= 1 << (id & 31);
      return true;
    }
    let m = this.masks.real.get(this.state);
    if (!m) {
      const limit = MAX_CACHED_MASK_BYTES / (this.maskWords * 4);
      if (this.masks.real.size >= limit) this.masks.real.clear();
      if (this.masks.local.size >= limit) this.masks.local.clear();
      m = computeMask(this.automaton, this.vocab, this.state, this.masks);
      this.masks.real.set(this.state, m);
    }
    mask.set(m);
    for (let w = 0; w < m.length; w++) if (m[w] !== 0) return true;
    return false;
  }

  /** Advances by one token; false (and no change) if the grammar does not allow it. */
  accept(token: number): boolean {
    if (this.ended) return false;
    if (this.eos.has(token)) {
      if (!this.automaton.isAccepting(this.state)) return false;
      this.ended = true;
      this.states.push(this.state);
      return true;
    }
    const bytes = this.vocab.tokens[token];
    if (bytes === undefined || bytes.length === 0) return false;
    let s = this.state;
    for (let i = 0; i < bytes.length && s !== DEAD; i++) s = this.automaton.step(s, bytes[i]);
    if (s === DEAD) return false;
    this.states.push(s);
    return true;
  }

  /**
   * Advances by raw bytes (a lazy grammar's trigger text and what followed it in the token that
   * completed it); false (and no change) if the grammar rejects them.
   */
  acceptBytes(bytes: Uint8Array): boolean {
    if (this.ended) return false;
    let s = this.state;
    for (let i = 0; i < bytes.length && s !== DEAD; i++) s = this.automaton.step(s, bytes[i]);
    if (s === DEAD) return false;
    this.states.push(s);
    return true;
  }

  /** The grammar is satisfied: an end token is allowed now. */
  isComplete(): boolean {
    return this.ended || this.automaton.isAccepting(this.state);
  }

  /** Satisfied and nothing more can follow (a caller may stop without sampling an end token). */
  isFinished(): boolean {
    return this.ended || (this.isComplete() && !this.automaton.canContinue(this.state));
  }

  /** Undoes the last n accepted tokens. */
  rollback(n: number): void {
    if (n < 0 || n > this.states.length - 1) throw new RangeError(`cannot roll back ${n} tokens`);
    if (n === 0) return;
    this.states.length -= n;
    this.ended = false;
  }

  reset(): void {
    this.rollback(this.states.length - 1);
  }
}

/** Sets every logit whose token the mask forbids to -Infinity. */
export function applyMask(logits: Float32Array, mask: Uint32Array): void {
  const n = logits.length;
  for (let w = 0; w * 32 < n; w++) {
    const bits = w < mask.length ? mask[w] : 0;
    if (bits === 0xffffffff) continue;
    const end = Math.min(n, w * 32 + 32);
    for (let i = w * 32; i < end; i++) if (((bits >>> (i & 31)) & 1) === 0) logits[i] = -Infinity;
  }
}
