// FIM tokens found in a tokenizer (an added token is one id; the same text spelled in bytes is
// not), for each known family, and the prompt they make.
import { describe, expect, it } from 'vitest';
import { Llama2cTokenizer, syntheticLlama2cTokenizer } from '../../../engine/index';
import { HfTokenizer } from '../../../engine/tokenizers/hf-tokenizer';
import { findFimTokens, renderFim } from '../../../engine/tokenizers/fim';
import { byteLevelTokenizer } from './fixtures';

/** The byte-level fixture with three more special tokens. */
function withTokens(texts: string[]) {
  const t = byteLevelTokenizer();
  const json = structuredClone(t.tokenizerJson);
  texts.forEach((content, i) =>
    json.added_tokens.push({ ...json.added_tokens[0], id: 266 + i, content }),
  );
  return new HfTokenizer(json, t.tokenizerConfig);
}

describe('findFimTokens', () => {
  it.each([
    ['DeepSeek-V3', ['<｜fim▁begin｜>', '<｜fim▁hole｜>', '<｜fim▁end｜>']],
    ['Qwen2.5-Coder', ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>']],
    ['StarCoder', ['<fim_prefix>', '<fim_suffix>', '<fim_middle>']],
  ])('finds %s tokens and renders prefix, suffix, middle', (_, texts) => {
    const tok = withTokens(texts);
    const fim = findFimTokens(tok);
    expect(fim).toEqual({ prefix: texts[0], suffix: texts[1], middle: texts[2] });
    const prompt = renderFim(fim!, 'def f(x):', '    return y');
    expect(prompt).toBe(`${texts[0]}def f(x):${texts[1]}    return y${texts[2]}`);
    // the markers stay single tokens in the encoded prompt
    const ids = tok.encode(prompt, { bos: false });
    expect(ids[0]).toBe(266);
    expect(ids.at(-1)).toBe(268);
  });

  it('a tokenizer without them (or with only two) has none', () => {
    expect(findFimTokens(withTokens([]))).toBeNull();
    expect(findFimTokens(withTokens(['<fim_prefix>', '<fim_suffix>']))).toBeNull();
    const llama2c = Llama2cTokenizer.fromBytes(syntheticLlama2cTokenizer(512), 512);
    expect(findFimTokens(llama2c)).toBeNull();
  });
});
