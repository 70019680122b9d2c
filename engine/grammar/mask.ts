// Grammar room: token masks. A mask is computed once per automaton state by walking the token
// trie, and cached on the grammar; XGrammar's split (automaton.ts) makes most walks shared.
import { DEAD, UNKNOWN, type Automaton } from './automaton';
import type { Vocab } from './vocab';

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

/** Local masks of built-in rules, per vocabulary, shared by all grammars. */
const shared = new WeakMap<Vocab, Map<string, LocalMask>>();
const MAX_SHARED = 256;

function sharedMasks(vocab: Vocab): Map<string, LocalMask> {
  let m = shared.get(vocab);
  if (!m) shared.set(vocab, (m = new Map()));
  return m;
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
    const key = automaton.sharedKey(local);
    const shared = key === null ? undefined : sharedMasks(vocab);
    entry = key === null ? undefined : shared?.get(key);
    if (!entry) {
      entry = walkLocal(automaton, vocab, local);
      if (key !== null && shared) {
        if (shared.size >= MAX_SHARED) shared.clear();
        shared.set(key, entry);
      }
    }
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
