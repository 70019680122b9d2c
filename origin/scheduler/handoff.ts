// Prefill/decode separation inside the scheduler (docs/origin.md, "Roles"). A prefill-only request
// computes its prompt and gives back its slot's KV rows, block by block, with the last position's
// logits instead of sampling; a handed-over request starts with those rows restored into its slot and
// samples its first token from those logits, so it never runs the prompt's forward steps.
import { BLOCK_TOKENS } from '../../engine/prompt-cache/blocks';
import type { KvRows, StepBackend } from '../backend/step-backend';

/** A computed prompt: its rows in 64-token blocks from position 0 (the last may be shorter), and the logits after it. */
export interface PrefilledPrompt {
  blocks: KvRows[];
  logits: Float32Array | Float64Array;
  /**
   * Present where rows and logits lie in memory lent for the hand-off (origin/server/handoff-buffers.ts):
   * whoever still needs them holds it (each sequence until its slot has them, the handler until it has
   * submitted every choice); the last release lends the memory to the next hand-off.
   */
  lease?: Lease;
}

export interface Lease {
  hold(): void;
  release(): void;
}

/** Copies a finished prompt out of its slot (the logits are copied: the backend reuses its arrays). */
export function takePrompt(
  backend: StepBackend,
  slot: number,
  tokens: number,
  logits: Float32Array | Float64Array,
): PrefilledPrompt {
  const blocks: KvRows[] = [];
  for (let start = 0; start < tokens; start += BLOCK_TOKENS)
    blocks.push(backend.saveKv(slot, start, Math.min(BLOCK_TOKENS, tokens - start)));
  return { blocks, logits: logits.slice() };
}

/** Writes handed-over rows into a slot; returns the positions they cover. */
export function restorePrompt(backend: StepBackend, slot: number, p: PrefilledPrompt): number {
  let pos = 0;
  for (const rows of p.blocks) {
    backend.restoreKv(slot, pos, rows);
    pos += rows.tokens;
  }
  return pos;
}
