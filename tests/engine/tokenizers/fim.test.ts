// FIM tokens found in a vocabulary and the PSM prompt they make: on DeepSeek-V3's real tokenizer
// (checked against the package's own tokenizer), and on small fixtures for Qwen2.5-Coder, StarCoder
// and CodeLlama markers; a vocabulary without them has none.
import { describe, expect, it } from 'vitest';
import { findFimTokens, fimPromptIds, fimPromptText } from '../../../engine/tokenizers/fim';
import { HfTokenizer } from '../../../engine/tokenizers/hf-tokenizer';
import { DEEPSEEK_V3_VOCAB, deepSeekV3Files, referenceIds } from './deepseek-v3';
import { byteLevelTokenizer, sentencePieceTokenizer } from './fixtures';

const PREFIX = 'def add(a, b):\n    ';
const SUFFIX = '\n\nprint(add(1, 2))\n';

describe('FIM on DeepSeek-V3', () => {
  const files = deepSeekV3Files();
  const tok = new HfTokenizer(files.tokenizerJson, files.tokenizerConfig, {
    vocabSize: DEEPSEEK_V3_VOCAB,
  });

  it('finds <｜fim▁begin｜>, <｜fim▁hole｜>, <｜fim▁end｜>', () => {
    expect(findFimTokens(tok)).toEqual({
      family: 'deepseek',
      prefix: { text: '<｜fim▁begin｜>', id: referenceIds('<｜fim▁begin｜>')[0] },
      suffix: { text: '<｜fim▁hole｜>', id: referenceIds('<｜fim▁hole｜>')[0] },
      middle: { text: '<｜fim▁end｜>', id: referenceIds('<｜fim▁end｜>')[0] },
    });
  });

  it('renders BOS, begin, prefix, hole, suffix, end: the reference ids of the same text', () => {
    const fim = findFimTokens(tok)!;
    const text = fimPromptText(fim, PREFIX, SUFFIX)!;
    expect(text).toBe(`<｜fim▁begin｜>${PREFIX}<｜fim▁hole｜>${SUFFIX}<｜fim▁end｜>`);
    const ids = fimPromptIds(tok, fim, PREFIX, SUFFIX);
    expect(ids).toEqual([0, ...referenceIds(text)]);
    expect(ids.filter((id) => id >= 128_800 && id <= 128_802)).toEqual([128_801, 128_800, 128_802]);
    expect(tok.encode(text)).toEqual(ids);
    // empty prefix or suffix: the markers stay
    expect(fimPromptIds(tok, fim, '', '')).toEqual([0, 128_801, 128_800, 128_802]);
  });
});

/** A fixture with extra added tokens after its last id. */
function withAdded(f: ReturnType<typeof byteLevelTokenizer>, texts: string[]) {
  const json = structuredClone(f.tokenizerJson);
  texts.forEach((content, i) =>
    json.added_tokens.push({
      id: 266 + i,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    }),
  );
  return new HfTokenizer(json, f.tokenizerConfig);
}

describe('FIM markers of other families', () => {
  it('Qwen2.5-Coder: <|fim_prefix|> prefix <|fim_suffix|> suffix <|fim_middle|>, no BOS', () => {
    const tok = withAdded(byteLevelTokenizer(), [
      '<|fim_prefix|>',
      '<|fim_middle|>',
      '<|fim_suffix|>',
    ]);
    const fim = findFimTokens(tok)!;
    expect(fim.family).toBe('qwen');
    expect([fim.prefix.id, fim.suffix.id, fim.middle.id]).toEqual([266, 268, 267]);
    const ids = fimPromptIds(tok, fim, 'the', ' cat');
    expect(ids).toEqual([266, 257, 268, 260, 267]); // the=257, Ġcat=260
    expect(tok.encode(fimPromptText(fim, 'the', ' cat')!)).toEqual(ids);
  });

  it('StarCoder: <fim_prefix> <fim_suffix> <fim_middle>', () => {
    const tok = withAdded(byteLevelTokenizer(), ['<fim_prefix>', '<fim_suffix>', '<fim_middle>']);
    const fim = findFimTokens(tok)!;
    expect(fim.family).toBe('starcoder');
    expect(fimPromptIds(tok, fim, 'the', 'the')).toEqual([266, 257, 267, 257, 268]);
  });

  it("CodeLlama: BOS ▁<PRE> prefix ▁<SUF> suffix ▁<MID>, the suffix without SentencePiece's space", () => {
    const f = sentencePieceTokenizer();
    const vocab = f.tokenizerJson.model.vocab as Record<string, number>;
    const next = Object.keys(vocab).length;
    ['▁<PRE>', '▁<SUF>', '▁<MID>'].forEach((t, i) => (vocab[t] = next + i));
    const tok = new HfTokenizer(f.tokenizerJson, f.tokenizerConfig);
    const fim = findFimTokens(tok)!;
    expect(fim.family).toBe('codellama');
    expect(fimPromptText(fim, 'a', 'b')).toBeNull();
    const ids = fimPromptIds(tok, fim, 'hello', 'hello');
    const [h, el, lo] = ['h', 'el', 'lo'].map((t) => tok.tokenId(t)!);
    // prefix "hello" is ▁hello (the space "<PRE> {prefix}" has); the suffix is h·el·lo, no ▁
    expect(ids).toEqual([1, next, tok.tokenId('▁hello'), next + 1, h, el, lo, next + 2]);
  });

  it('null when the vocabulary has no complete set of markers', () => {
    expect(findFimTokens(new HfTokenizer(byteLevelTokenizer().tokenizerJson))).toBeNull();
    const partial = withAdded(byteLevelTokenizer(), ['<|fim_prefix|>', '<|fim_suffix|>']);
    expect(findFimTokens(partial)).toBeNull();
  });
});
