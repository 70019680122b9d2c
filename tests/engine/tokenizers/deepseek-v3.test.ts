// HfTokenizer and ChatTemplate on DeepSeek-V3's real tokenizer.json (128,815 ids, 818 added tokens):
// it loads (a spread over the vocabulary once overflowed the stack), encodes as the package's own
// tokenizer does, rebuilds every text from per-token bytes, and renders the chat template identically.
import { describe, expect, it } from 'vitest';
import { ggufTokenizerFromJson } from '../../../engine/formats/gguf-tokenizer';
import { ChatTemplate, chatTemplateSource } from '../../../engine/tokenizers/chat-template';
import { HfTokenizer } from '../../../engine/tokenizers/hf-tokenizer';
import {
  DEEPSEEK_V3_VOCAB,
  deepSeekV3Files,
  PROMPT_KINDS,
  referenceChatText,
  referenceIds,
} from './deepseek-v3';

const files = deepSeekV3Files();
const tok = new HfTokenizer(files.tokenizerJson, files.tokenizerConfig, {
  vocabSize: DEEPSEEK_V3_VOCAB,
});
const template = new ChatTemplate(chatTemplateSource(files.tokenizerConfig)!, tok.specialTokens);

const TEXTS = [
  'The quick brown fox jumps over the lazy dog.',
  '深度求索：边缘推理，按令牌计费。日本語のテキストも。',
  'if (x <= 0x1F) { return arr.map((v) => v * 2); } // 12345.678',
  'naïve café — 🙂🚀 tabs\tand\nnewlines\r\n  double  spaces',
  '<｜User｜>hi<｜Assistant｜>',
  '',
];

function decodeAll(ids: number[]): string {
  const decoder = new TextDecoder();
  let text = '';
  ids.forEach((id, i) => {
    text += decoder.decode(tok.decodePiece(i === 0 ? -1 : ids[i - 1], id), { stream: true });
  });
  return text + decoder.decode();
}

describe("DeepSeek-V3's tokenizer.json through HfTokenizer", () => {
  it('loads, with the model vocabulary, BOS and EOS of DeepSeek-V3', () => {
    expect(tok.vocabSize).toBe(DEEPSEEK_V3_VOCAB);
    expect(tok.bosId).toBe(0);
    expect(tok.eosId).toBe(1);
    expect(tok.stopIds).toEqual([1]);
    expect(tok.tokenId('<｜fim▁hole｜>')).toBe(128_800);
    expect(tok.tokenId('<｜tool▁calls▁begin｜>')).toBe(128_806);
    expect(tok.tokenId('no such token')).toBeNull();
  });

  it('encodes as the reference tokenizer does; BOS first by add_bos_token', () => {
    for (const text of TEXTS) {
      expect(tok.encode(text, { bos: false }), text).toEqual(referenceIds(text));
      expect(tok.encode(text)).toEqual([0, ...referenceIds(text)]);
    }
    // added tokens are split out of text as single ids
    expect(tok.encode('<｜User｜>hi<｜Assistant｜>', { bos: false })).toEqual([
      128_803,
      referenceIds('hi')[0],
      128_804,
    ]);
  });

  it('rebuilds each text from per-token bytes; special tokens and padded ids decode to nothing', () => {
    for (const text of TEXTS) expect(decodeAll(tok.encode(text, { bos: false }))).toBe(text);
    expect(tok.decodePiece(-1, 0).length).toBe(0);
    expect(tok.decodePiece(-1, 1).length).toBe(0);
    expect(tok.decodePiece(-1, DEEPSEEK_V3_VOCAB - 1).length).toBe(0);
    expect(() => tok.decodePiece(-1, DEEPSEEK_V3_VOCAB)).toThrow(RangeError);
  });

  it('renders the chat template as the reference does, for every prompt kind', () => {
    for (const [kind, messages] of Object.entries(PROMPT_KINDS)) {
      const text = template.render(messages);
      expect(text, kind).toBe(referenceChatText(messages));
      expect(text.startsWith('<｜begin▁of▁sentence｜>')).toBe(true);
      expect(text.endsWith('<｜Assistant｜>')).toBe(true);
      expect(tok.encode(text, { bos: false })[0]).toBe(0); // the template writes BOS once
      expect(tok.encode(text, { bos: false }), kind).toEqual(referenceIds(text));
    }
  });

  it("exports to GGUF metadata too (the importer's vocabulary size no longer spreads 128K ids)", () => {
    const kv = new Map(
      ggufTokenizerFromJson(
        files.tokenizerJson as never,
        files.tokenizerConfig as never,
        'deepseek-v3',
      ),
    );
    const tokens = kv.get('tokenizer.ggml.tokens') as { value: string[] };
    expect(tokens.value).toHaveLength(128_815);
    expect(tokens.value[128_801]).toBe('<｜fim▁begin｜>');
  });
});
