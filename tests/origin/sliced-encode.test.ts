// A long prompt tokenized in slices (origin/model/sliced-encode.ts) gives the ids of the whole text, on
// the two tokenizers that allow it (the trained model's and DeepSeek-V3's): code, chat text with special
// tokens, and the whitespace a cut could meet (CRLF, tabs, U+0085, blank lines, digits and CJK across
// lines). Slices join back to the text and are cut only after a newline a non-space follows.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDeepSeekConfig } from '../../engine/deepseek/config';
import { deepSeekV3TokenizerDir, loadOriginTokenizer } from '../../origin/model/tokenizer';
import { SLICE_CHARS, cutsAtNewlines, sliceText } from '../../origin/model/sliced-encode';

const MODEL = 'models/pystd-mla-moe';
const config = parseDeepSeekConfig(JSON.parse(readFileSync(join(MODEL, 'config.json'), 'utf8')));
const code = readFileSync('origin/scheduler/scheduler.ts', 'utf8');
const tricky = [
  'def f(x):\r\n\treturn x  \r\nprint(1)\n\n\n  indented\n\u0085after NEL\n',
  '12345\n67890\n数字一二三\n漢字かなカナ\n',
  '<｜begin▁of▁sentence｜>You are helpful.<｜User｜>Hi\nthere<｜Assistant｜>Hello\n',
  '}\n{\n)\n]\n.\n,x\n  \n \t\nz\n',
].join('');
const texts = [code, tricky.repeat(40), (code.slice(0, 3000) + tricky).repeat(3)];

describe('sliced encoding', () => {
  it('cuts only after a newline that a non-space follows, and the slices join back', () => {
    for (const text of texts) {
      const slices = sliceText(text);
      expect(slices.length).toBeGreaterThan(2);
      expect(slices.join('')).toBe(text);
      for (const s of slices.slice(0, -1)) {
        expect(s.length).toBeGreaterThan(SLICE_CHARS);
        expect(s.endsWith('\n')).toBe(true);
      }
      for (const s of slices.slice(1)) expect(/^[^\s\u0085]/.test(s)).toBe(true);
    }
  });

  it.each([
    ['the trained model', MODEL],
    ['DeepSeek-V3', deepSeekV3TokenizerDir()],
  ])('gives the whole text’s ids with %s’s tokenizer', async (_, dir) => {
    const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
    expect(cutsAtNewlines(json)).toBe(true);
    const tok = loadOriginTokenizer(dir, { ...config, vocabSize: 200_000 });
    for (const text of texts)
      for (const bos of [true, false])
        expect(await tok.encodeAsync(text, { bos })).toEqual(tok.encode(text, { bos }));
  });

  it('is not used for a tokenizer with a normalizer or another pre-tokenizer', () => {
    const json = JSON.parse(readFileSync(join(MODEL, 'tokenizer.json'), 'utf8'));
    expect(cutsAtNewlines({ ...json, normalizer: { type: 'NFC' } })).toBe(false);
    expect(cutsAtNewlines({ ...json, pre_tokenizer: { type: 'ByteLevel' } })).toBe(false);
  });
});
