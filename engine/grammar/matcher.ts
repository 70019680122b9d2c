// Grammar room: the per-sequence matcher a sampler drives: fillMask before each token, accept
// after it, rollback for speculative decoding. Masks are computed once per automaton state by a
// trie walk and cached on the grammar, so matchers of one grammar (a batch) share them.
import { DEAD, UNKNOWN, type Automaton } from './automaton';
import type { Grammar } from './grammar';
import type { Vocab } from './vocab';

/** Cached masks per (grammar, vocab) beyond this many states are dropped and recomputed. */
const MAX_CACHED_MASKS = 4096;

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

  /** Sets bit t of `mask` (Uint32Array of maskWords) iff token t may come next. */
  fillMask(mask: Uint32Array): void {
    if (this.ended) {
      mask.fill(0);
      for (const id of this.vocab.eosIds) mask[id >>> 5] |= 1 << (id & 31);
      return;
    }
    let m = this.masks.real.get(this.state);
    if (!m) {
      if (this.masks.real.size >= MAX_CACHED_MASKS) this.masks.real.clear();
      if (this.masks.local.size >= MAX_CACHED_MASKS) this.masks.local.clear();
      m = computeMask(this.automaton, this.vocab, this.state, this.masks);
      this.masks.real.set(this.state, m);
    }
    mask.set(m);
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

/** Per (grammar, vocab): masks of real states, and certain/uncertain token sets of local ones. */
export interface MaskCache {
  real: Map<number, Uint32Array>;
  local: Map<number, LocalMask>;
}

interface LocalMask {
  certain: Uint32Array;
  /** Token ids alive only through the hole: checked against each real state. */
  uncertain: Uint32Array;
}

/** Above this share of the vocabulary uncertain, a plain walk of the real state is cheaper. */
const MAX_UNCERTAIN_SHARE = 1 / 8;

/**
 * The mask of `state`: its local state's certain tokens (one trie walk shared by every state with
 * that local form), plus the uncertain ones that survive a walk from the real state.
 */
export function computeMask(
  automaton: Automaton,
  vocab: Vocab,
  state: number,
  cache?: MaskCache,
): Uint32Array {
  const local = automaton.local(state);
  let entry = local === state ? undefined : cache?.local.get(local);
  if (local !== state && !entry) {
    entry = walkLocal(automaton, vocab, local);
    cache?.local.set(local, entry);
  }
  if (!entry || entry.uncertain.length > vocab.size * MAX_UNCERTAIN_SHARE)
    return referenceMask(automaton, vocab, state);
  const mask = entry.certain.slice();
  for (const id of entry.uncertain) {
    const bytes = vocab.tokens[id];
    let s = state;
    for (let i = 0; i < bytes.length && s !== DEAD; i++) s = automaton.step(s, bytes[i]);
    if (s !== DEAD) mask[id >>> 5] |= 1 << (id & 31);
  }
  addEos(automaton, vocab, state, mask);
  return mask;
}

/** A plain trie walk of a real state: the reference computeMask is checked against. */
export function referenceMask(automaton: Automaton, vocab: Vocab, state: number): Uint32Array {
  const mask = new Uint32Array((vocab.size + 31) >>> 5);
  trieWalk(automaton, vocab, state, (id) => (mask[id >>> 5] |= 1 << (id & 31)));
  addEos(automaton, vocab, state, mask);
  return mask;
}

function walkLocal(automaton: Automaton, vocab: Vocab, local: number): LocalMask {
  const certain = new Uint32Array((vocab.size + 31) >>> 5);
  const uncertain: number[] = [];
  trieWalk(automaton, vocab, local, (id, s) => {
    if (automaton.isGrounded(s)) certain[id >>> 5] |= 1 << (id & 31);
    else uncertain.push(id);
  });
  return { certain, uncertain: Uint32Array.from(uncertain) };
}

function addEos(automaton: Automaton, vocab: Vocab, state: number, mask: Uint32Array): void {
  if (!automaton.isAccepting(state)) return;
  for (const id of vocab.eosIds) mask[id >>> 5] |= 1 << (id & 31);
}

/** Walks the trie from `state`, calling `take(token, stateAfter)`; a rejected prefix skips its subtree. */
function trieWalk(
  automaton: Automaton,
  vocab: Vocab,
  state: number,
  take: (id: number, state: number) => void,
): void {
  const { byte, depth, skip, tokStart, ids } = vocab.trie;
  const at = new Int32Array(vocab.trie.maxDepth + 1);
  at[0] = state;
  const n = byte.length;
  let trans = automaton.trans;
  for (let i = 0; i < n;) {
    const from = at[depth[i] - 1];
    let next = trans[from * 256 + byte[i]];
    if (next === UNKNOWN) {
      next = automaton.computeStep(from, byte[i]);
      trans = automaton.trans; // may have grown
    }
    if (next === DEAD) {
      i = skip[i];
      continue;
    }
    at[depth[i]] = next;
    for (let k = tokStart[i], end = tokStart[i + 1]; k < end; k++) take(ids[k], next);
    i++;
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
