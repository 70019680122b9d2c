// run.c's encode as plainly written (a quadratic rescan per merge): the reference the heap-based
// tokenizer is tested against (tests/engine/tokenizers/llama2c-tokenizer.test.ts) and timed against (bench/tokenizer.ts).
import type { Llama2cTokenizer } from '../../engine/index';

/**
 * run.c's encode written plainly, as the tokenizer did before its merge loop used a heap: after
 * every merge, rescan all adjacent pairs for the best-scoring merged piece (first wins ties).
 */
export function referenceEncode(tok: Llama2cTokenizer, text: string): number[] {
  const lookup = referenceLookup(tok);
  const bytes = new TextEncoder().encode(text);
  const binary = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  const tokens = [1];
  if (bytes.length > 0) tokens.push(lookup.get(' ')!);
  for (let i = 0; i < bytes.length;) {
    let end = i + 1;
    while (end < bytes.length && (bytes[end] & 0xc0) === 0x80 && end - i < 4) end++;
    const id = lookup.get(binary(i, end));
    if (id !== undefined) tokens.push(id);
    else for (let b = i; b < end; b++) tokens.push(bytes[b] + 3);
    i = end;
  }
  for (;;) {
    let bestScore = -1e10;
    let bestId = -1;
    let bestIdx = -1;
    for (let i = 0; i < tokens.length - 1; i++) {
      const id = lookup.get(tok.pieces[tokens[i]] + tok.pieces[tokens[i + 1]]);
      if (id !== undefined && tok.scores[id] > bestScore) {
        bestScore = tok.scores[id];
        bestId = id;
        bestIdx = i;
      }
    }
    if (bestIdx === -1) return tokens;
    tokens.splice(bestIdx, 2, bestId);
  }
}

const lookups = new WeakMap<Llama2cTokenizer, Map<string, number>>();

/** Piece to id, the first id for a duplicate piece; built once per tokenizer (32000 pieces are slow to map per call). */
function referenceLookup(tok: Llama2cTokenizer): Map<string, number> {
  let lookup = lookups.get(tok);
  if (!lookup) {
    lookup = new Map();
    for (const [id, p] of tok.pieces.entries()) if (!lookup.has(p)) lookup.set(p, id);
    lookups.set(tok, lookup);
  }
  return lookup;
}
