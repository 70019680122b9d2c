// The grammar's view of real vocabularies: each token's bytes (byte fallback, SentencePiece '▁',
// GPT-2 byte-level), end tokens, and the token trie that holds them all.
import { describe, expect, it } from 'vitest';
import type { Vocab } from '../../../engine/grammar/index';
import { deepseekVocab, llamaVocab } from './helpers';

const str = (v: Vocab, id: number) => new TextDecoder().decode(v.tokens[id]);

/** Every non-empty token is found in the trie by walking its bytes, and ends at a node listing it. */
function checkTrie(v: Vocab) {
  const t = v.trie;
  const nonEmpty = v.tokens.filter((b, id) => b.length && !v.eosIds.includes(id)).length;
  expect(t.ids.length).toBe(nonEmpty);
  const rnd = (i: number) => (i * 2654435761) % v.tokens.length;
  for (let k = 0; k < 2000; k++) {
    const id = rnd(k);
    const bytes = v.tokens[id];
    if (!bytes.length || v.eosIds.includes(id)) continue;
    let node = 0;
    let end = t.nodeCount;
    for (let d = 0; d < bytes.length; d++) {
      while (node < end && t.byte[node] !== bytes[d]) node = t.skip[node];
      expect(node, `token ${id} byte ${d}`).toBeLessThan(end);
      expect(t.depth[node]).toBe(d + 1);
      if (d + 1 < bytes.length) [node, end] = [node + 1, t.skip[node]];
    }
    expect(Array.from(t.ids.subarray(t.tokStart[node], t.tokStart[node + 1]))).toContain(id);
  }
}

describe('vocabBytes', () => {
  const tok512 = llamaVocab('tok512.bin');
  const llama = llamaVocab('tokenizer.bin');
  const ds = deepseekVocab();

  it.runIf(tok512)('tok512.bin: byte fallback and pieces', () => {
    const v = tok512!.vocab;
    expect(v.size).toBe(512);
    expect(Array.from(v.tokens[13])).toEqual([0x0a]); // <0x0A>
    expect(v.tokens[1].length).toBe(0); // BOS
    expect(v.tokens[0].length).toBe(0); // <unk>
    expect(v.eosIds).toEqual(tok512!.tokenizer.stopIds);
    checkTrie(v);
  });

  it.runIf(llama)('llama2.c 32k tokenizer.bin: SentencePiece pieces with their spaces', () => {
    const v = llama!.vocab;
    expect(v.size).toBe(32000);
    expect(str(v, 278)).toBe(' the');
    expect(str(v, 29871)).toBe(' ');
    expect(Array.from(v.tokens[3])).toEqual([0]);
    checkTrie(v);
  });

  it.runIf(ds)("DeepSeek-V3 tokenizer.json: byte-level 'Ġ'/'Ċ', specials out, EOS named", () => {
    const v = ds!;
    expect(v.size).toBe(129280);
    expect(str(v, 270)).toBe(' the');
    expect(str(v, 201)).toBe('\n');
    expect(str(v, 28612)).toBe(' {"');
    expect(v.tokens[0].length).toBe(0); // <｜begin▁of▁sentence｜>
    expect(v.eosIds).toEqual([1]);
    expect(v.tokens[129000]?.length ?? 0).toBe(0); // padding ids beyond the tokenizer
    checkTrie(v);
  });
});
