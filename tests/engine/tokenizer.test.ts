// llama2.c tokenizer.bin: run.c's encode (BOS, dummy prefix, byte fallback, greedy merges) and decode.
import { describe, expect, it } from 'vitest';
import { Llama2cTokenizer, runcPrintable, syntheticLlama2cTokenizer, TokenizerError } from '../../engine/index';
import { loadStories } from './helpers';

const stories = loadStories();
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe.skipIf(!stories)('tok512', () => {
  const tok = () => Llama2cTokenizer.fromBytes(stories!.tokenizer, 512);

  it('has the documented layout', () => {
    const t = tok();
    expect(t.vocabSize).toBe(512);
    expect(t.maxTokenLength).toBe(7);
    expect(t.pieces.slice(0, 4)).toEqual(['<unk>', '\n<s>\n', '\n</s>\n', '<0x00>']);
    expect(t.pieces[410]).toBe(' ');
  });

  it('encodes every golden prompt to its golden ids', () => {
    for (const c of stories!.cases) expect(tok().encode(c.prompt, { bos: true, eos: false })).toEqual(c.prompt_token_ids);
    expect(tok().encode('Once upon a time', { bos: true })).toEqual([1, 403, 407, 261, 378]);
  });

  it('adds BOS/EOS on request and no dummy prefix for empty text', () => {
    expect(tok().encode('', { bos: false, eos: false })).toEqual([]);
    expect(tok().encode('', { bos: true, eos: true })).toEqual([1, 2]);
    expect(tok().encode('hi', { bos: false, eos: true }).at(-1)).toBe(2);
  });

  it('falls back to byte tokens (byte + 3) for characters outside the vocabulary', () => {
    expect(tok().encode('Ω', { bos: false })).toEqual([410, 0xce + 3, 0xa9 + 3]);
    expect(tok().encode('é', { bos: false })).toEqual([410, 485]); // é is a piece of its own
  });

  it('decodes golden ids back to the golden text', () => {
    const t = tok();
    for (const c of stories!.cases) {
      const ids = c.token_ids;
      const out = ids.slice(1).map((id, i) => text(runcPrintable(t.decodePiece(ids[i], id)))).join('');
      expect(out + '\n').toBe(c.output_text);
    }
  });

  it('strips the leading space only after BOS', () => {
    const t = tok();
    expect(text(t.decodePiece(1, 403))).toBe(t.pieces[403].slice(1));
    expect(text(t.decodePiece(5, 403))).toBe(t.pieces[403]);
  });
});

describe('synthetic tokenizer', () => {
  const t = Llama2cTokenizer.fromBytes(syntheticLlama2cTokenizer(1000));

  it('reads to the end without a vocab size', () => {
    expect(t.vocabSize).toBe(1000);
    expect(t.pieces[258]).toBe('<0xFF>');
    expect(t.pieces[259]).toBe(' ');
  });

  it('round-trips text through encode and decode, merging known words', () => {
    const ids = t.encode('Once upon a time, ünïcode!', { bos: true });
    expect(ids.length).toBeLessThan(20);
    const bytes = ids.slice(1).flatMap((id, i) => [...t.decodePiece(ids[i], id)]);
    expect(text(Uint8Array.from(bytes))).toBe('Once upon a time, ünïcode!');
  });

  it('maps byte pieces to raw bytes, and run.c skips lone unprintable ones', () => {
    expect([...t.decodePiece(5, 0xe2 + 3)]).toEqual([0xe2]);
    expect(runcPrintable(t.decodePiece(5, 0xe2 + 3)).length).toBe(0);
    expect([...runcPrintable(t.decodePiece(5, 0x0a + 3))]).toEqual([0x0a]);
  });

  it('rejects damaged files with the reason', () => {
    const bytes = syntheticLlama2cTokenizer(300);
    expect(() => Llama2cTokenizer.fromBytes(bytes, 301)).toThrow(TokenizerError);
    expect(() => Llama2cTokenizer.fromBytes(bytes.subarray(0, 100), 300)).toThrow(/truncated/);
    expect(() => syntheticLlama2cTokenizer(100)).toThrow(RangeError);
  });
});
