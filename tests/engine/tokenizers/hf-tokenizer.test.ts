// tokenizer.json through HfTokenizer: ids worked out by hand from the fixtures' merges, per-token bytes
// that concatenate to the library's own decode (split UTF-8 characters included), stop ids, templates.
import { describe, expect, it } from 'vitest';
import {
  ChatTemplate,
  ChatTemplateError,
  chatTemplateSource,
} from '../../../engine/tokenizers/chat-template';
import { HfTokenizer } from '../../../engine/tokenizers/hf-tokenizer';
import { byteLevelTokenizer, sentencePieceTokenizer } from './fixtures';

const decodeAll = (t: HfTokenizer, ids: number[], first = -1) => {
  const decoder = new TextDecoder();
  let text = '';
  ids.forEach(
    (id, i) =>
      (text += decoder.decode(t.decodePiece(i === 0 ? first : ids[i - 1], id), { stream: true })),
  );
  return text + decoder.decode();
};

describe('byte-level BPE (GPT-2/Qwen2 style)', () => {
  const f = byteLevelTokenizer();
  const t = new HfTokenizer(f.tokenizerJson, f.tokenizerConfig, { vocabSize: 300, stopIds: [263] });

  it('encodes with the merges: "the cat" = [the, Ġcat]', () => {
    expect(t.encode('the cat')).toEqual([257, 260]);
    // merges apply by rank: 't h' (0) beats 'Ġ t' (5), so ' the' is Ġ + the and Ġthe never forms
    expect(t.encode('the the')).toEqual([257, 32, 257]);
    // unmerged text is its bytes (byte b has id b); digits split one by one (Qwen2's \p{N})
    expect(t.encode('Hi 42')).toEqual([72, 105, 32, 52, 50]);
  });

  it('splits special tokens out of text and has no BOS', () => {
    expect(t.bosId).toBeNull();
    expect(t.encode('<|im_start|>user\nthe cat<|im_end|>')).toEqual([
      264, 117, 115, 101, 114, 10, 257, 260, 265,
    ]);
  });

  it('stop ids: the eos_token and the extra ones', () => {
    expect([...t.stopIds].sort()).toEqual([263, 265]);
    expect(t.vocabSize).toBe(300);
  });

  it('per-token bytes rebuild the text, multi-byte characters split across tokens', () => {
    const text = 'the cat — naïve 日本 🙂';
    const ids = t.encode(text);
    expect(ids.length).toBeGreaterThan(text.length / 2);
    expect(decodeAll(t, ids)).toBe(text);
    expect(decodeAll(t, ids)).toBe(t.decode(ids));
    // a 4-byte emoji is 4 byte tokens: each alone is an incomplete character
    const emoji = t.encode('🙂');
    expect(emoji).toEqual([0xf0, 0x9f, 0x99, 0x82]);
    expect(t.decodePiece(-1, emoji[0])).toEqual(Uint8Array.of(0xf0));
  });

  it('special tokens decode to nothing; padded ids beyond the tokenizer too', () => {
    expect(t.decodePiece(0, 265).length).toBe(0);
    expect(t.decodePiece(0, 299).length).toBe(0);
    expect(() => t.decodePiece(0, 300)).toThrow(RangeError);
  });
});

describe('SentencePiece-style BPE (Llama style)', () => {
  const f = sentencePieceTokenizer();
  const t = new HfTokenizer(f.tokenizerJson, f.tokenizerConfig);
  const id = (piece: string) => (f.tokenizerJson.model.vocab as Record<string, number>)[piece];

  it('prepends BOS and "▁", merges to ▁hello ▁world, falls back to bytes', () => {
    expect(t.bosId).toBe(1);
    expect(t.encode('hello world')).toEqual([1, id('▁hello'), id('▁world')]);
    expect(t.encode('hello world', { bos: false })).toEqual([id('▁hello'), id('▁world')]);
    expect(t.encode('hello, é')).toEqual([1, id('▁hello'), id(','), id('▁'), 3 + 0xc3, 3 + 0xa9]);
    expect(t.encode('hello', { eos: true })).toEqual([1, id('▁hello'), 2]);
  });

  it('decodes "▁" as a space, <0xXX> as the byte, and drops the space after BOS', () => {
    const ids = t.encode('hello world, é');
    expect(decodeAll(t, ids.slice(1), 1)).toBe('hello world, é');
    expect(t.decode(ids)).toBe('hello world, é');
    expect(new TextDecoder().decode(t.decodePiece(id('▁hello'), id('▁world')))).toBe(' world');
  });

  it('stops on </s>', () => expect(t.stopIds).toEqual([2]));
});

describe('chat templates (@huggingface/jinja)', () => {
  it('Qwen2 style: default system turn, generation prompt', () => {
    const f = byteLevelTokenizer();
    const t = new HfTokenizer(f.tokenizerJson, f.tokenizerConfig);
    const template = new ChatTemplate(chatTemplateSource(f.tokenizerConfig)!, t.specialTokens);
    const text = template.render([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
    expect(text).toBe(
      '<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(t.encode(text, { bos: false })[0]).toBe(264);
  });

  it('Llama 2 style: bos_token from the config, raise_exception as an error', () => {
    const f = sentencePieceTokenizer();
    const t = new HfTokenizer(f.tokenizerJson, f.tokenizerConfig);
    const template = new ChatTemplate(chatTemplateSource(f.tokenizerConfig)!, t.specialTokens);
    expect(
      template.render([
        { role: 'user', content: 'hello' },
        { role: 'assistant', content: 'world' },
        { role: 'user', content: 'hi' },
      ]),
    ).toBe('<s>[INST] hello [/INST] world </s>[INST] hi [/INST]');
    expect(() => template.render([{ role: 'assistant', content: 'x' }])).toThrow(ChatTemplateError);
  });

  it('a list of named templates picks "default"', () => {
    expect(
      chatTemplateSource({
        chat_template: [
          { name: 'tool_use', template: 'T' },
          { name: 'default', template: 'D' },
        ],
      }),
    ).toBe('D');
    expect(chatTemplateSource({})).toBeNull();
  });
});
