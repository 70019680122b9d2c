// llama2.c tokenizer.bin: run.c's encode (BOS, dummy prefix, byte fallback, greedy merges) and decode.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  encodeLlama2cTokenizer,
  Llama2cTokenizer,
  runcPrintable,
  syntheticLlama2cTokenizer,
  TokenizerError,
} from '../../../engine/index';
import { mulberry32 } from '../../../engine/llama/synthetic';
import { findStories260k, sharedModelsDir } from '../../../tools/paths';
import { loadStories } from '../helpers';
import { referenceEncode } from '../reference-encode';

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
    for (const c of stories!.cases)
      expect(tok().encode(c.prompt, { bos: true, eos: false })).toEqual(c.prompt_token_ids);
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
      const out = ids
        .slice(1)
        .map((id, i) => text(runcPrintable(t.decodePiece(ids[i], id))))
        .join('');
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

const WORDS =
  'Once upon a time there was a little girl named Lily She loved to play the ball and the tree'.split(
    ' ',
  );
// One to four UTF-8 bytes each; some are vocabulary pieces, others fall back to bytes.
const MULTIBYTE = ['é', 'ü', 'ï', 'Ω', 'ß', '中', '文', '€', '😀', '🦙', '\u0301'];

/** Random text of one of several kinds, from empty to a few hundred characters. */
function randomText(random: () => number): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  const count = (max: number) => Math.floor(random() * max);
  const ascii = () => String.fromCharCode(32 + count(95));
  const kinds: (() => string)[] = [
    () => '',
    () => Array.from({ length: count(120) }, ascii).join(''),
    () => Array.from({ length: count(40) }, () => pick(WORDS)).join(pick([' ', '  ', ', ', '\n'])),
    () =>
      Array.from({ length: count(60) }, () => (random() < 0.5 ? pick(MULTIBYTE) : ascii())).join(
        '',
      ),
    // Runs of one character or one word: many equal-scoring pairs, so the leftmost-first tie rule decides.
    () => pick(['a', 'aa', 'ab', ' ', 'the ', 'é', '🦙', 'Lily']).repeat(count(150)),
    () =>
      Array.from({ length: count(20) }, () =>
        pick(['a', 'b', 'ab', 'ba', ' ']).repeat(1 + count(12)),
      ).join(''),
  ];
  return pick(kinds)();
}

/** Encodes `cases` seeded random strings with both algorithms and expects the same ids. */
function expectMatchesReference(tok: Llama2cTokenizer, seed: number, cases: number): void {
  const random = mulberry32(seed);
  for (let i = 0; i < cases; i++) {
    const s = randomText(random);
    expect(tok.encode(s, { bos: true }), JSON.stringify(s)).toEqual(referenceEncode(tok, s));
  }
}

describe('heap merge loop equals the quadratic run.c loop', () => {
  it('on the synthetic tokenizer', () => {
    expectMatchesReference(Llama2cTokenizer.fromBytes(syntheticLlama2cTokenizer(1000)), 1, 400);
    expectMatchesReference(Llama2cTokenizer.fromBytes(syntheticLlama2cTokenizer(32000)), 2, 200);
  });

  it("on a vocabulary of tied scores, with merges at or below run.c's -1e10 floor never taken", () => {
    const bytePieces: [string, number][] = Array.from({ length: 256 }, (_, b) => [
      `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`,
      0,
    ]);
    const merges: [string, number][] = [
      ['aa', 0],
      ['ab', 0],
      ['ba', 0],
      ['bb', -1],
      ['aaa', 0],
      ['aab', -1],
      ['abab', 0],
      ['aaaa', 0],
      [' a', 0],
      [' ab', -1],
      ['  ', -1e10],
      ['bbb', -1e11],
      ['ba ', 0],
      ['a ', -1],
      ['é', 0],
      ['éé', 0],
    ];
    const pieces: [string, number][] = [
      ['<unk>', 0],
      ['\n<s>\n', 0],
      ['\n</s>\n', 0],
      ...bytePieces,
      [' ', 0],
      ['a', 0],
      ['b', 0],
      ...merges,
    ];
    const tok = Llama2cTokenizer.fromBytes(encodeLlama2cTokenizer(pieces));
    const random = mulberry32(3);
    for (let i = 0; i < 400; i++) {
      const s = Array.from(
        { length: Math.floor(random() * 80) },
        () => ['a', 'b', ' ', 'é', 'x'][Math.floor(random() * 5)],
      ).join('');
      expect(tok.encode(s, { bos: true }), JSON.stringify(s)).toEqual(referenceEncode(tok, s));
    }
    expect(tok.encode('aaaa', { bos: false })).toEqual([
      tok.pieces.indexOf(' a'),
      tok.pieces.indexOf('aaa'),
    ]);
  });

  it('on a ~2000-token prompt', () => {
    const tok = Llama2cTokenizer.fromBytes(syntheticLlama2cTokenizer(32000));
    const text =
      'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with ünïcode 🦙. '.repeat(
        40,
      );
    const ids = tok.encode(text, { bos: true });
    expect(ids.length).toBeGreaterThan(1500);
    expect(ids).toEqual(referenceEncode(tok, text));
  });

  const real = findStories260k();
  if (!real && !process.env.CI)
    console.warn(
      'skipping the tok512 property test: ../shared/models/tok512.bin is absent (set SHARED_MODELS_DIR)',
    );
  it.skipIf(!real && !process.env.CI)('on the real tok512 tokenizer', () => {
    if (!real) throw new Error('CI must have ../shared/models (tok512.bin)');
    expectMatchesReference(Llama2cTokenizer.fromBytes(readFileSync(real.tokenizer), 512), 4, 600);
  });

  // Not required under CI: no other test needs the Llama 2 tokenizer.
  const llama2 = resolve(sharedModelsDir, 'tokenizer.bin');
  if (!existsSync(llama2))
    console.warn(`skipping the Llama 2 tokenizer property test: ${llama2} is absent`);
  it.skipIf(!existsSync(llama2))('on the real Llama 2 tokenizer.bin (32000 pieces)', () => {
    expectMatchesReference(Llama2cTokenizer.fromBytes(readFileSync(llama2), 32000), 5, 300);
  });
});
