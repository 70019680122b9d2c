// Small tokenizer.json files with hand-picked merges, so the ids of a text can be worked out by hand:
// a byte-level BPE in the GPT-2/Qwen2 style and a SentencePiece-style BPE in the Llama style.

/** GPT-2's bytes_to_unicode(): byte → the printable char standing for it. */
export function byteChar(b: number): string {
  const keep = (x: number) =>
    (x >= 33 && x <= 126) || (x >= 161 && x <= 172) || (x >= 174 && x <= 255);
  let n = 0;
  for (let x = 0; x < b; x++) if (!keep(x)) n++;
  return String.fromCharCode(keep(b) ? b : 256 + n);
}

/** Qwen2's pre-tokenizer regex (as in its tokenizer.json). */
export const QWEN2_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

/**
 * Byte-level BPE: byte b has id b; merges th=256, the=257, Ġc=258, at=259, Ġcat=260, Ġt=261, Ġthe=262;
 * specials <|endoftext|>=263, <|im_start|>=264, <|im_end|>=265.
 */
export function byteLevelTokenizer() {
  const vocab: Record<string, number> = {};
  for (let b = 0; b < 256; b++) vocab[byteChar(b)] = b;
  const merges = [
    ['t', 'h'],
    ['th', 'e'],
    ['Ġ', 'c'],
    ['a', 't'],
    ['Ġc', 'at'],
    ['Ġ', 't'],
    ['Ġt', 'he'],
  ];
  for (const [a, b] of merges) vocab[a + b] = Object.keys(vocab).length;
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    tokenizerJson: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [
        special(263, '<|endoftext|>'),
        special(264, '<|im_start|>'),
        special(265, '<|im_end|>'),
      ],
      normalizer: { type: 'NFC' },
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [
          { type: 'Split', pattern: { Regex: QWEN2_PATTERN }, behavior: 'Isolated', invert: false },
          { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
        ],
      },
      post_processor: {
        type: 'ByteLevel',
        add_prefix_space: false,
        trim_offsets: false,
        use_regex: false,
      },
      decoder: {
        type: 'ByteLevel',
        add_prefix_space: false,
        trim_offsets: false,
        use_regex: false,
      },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: '',
        end_of_word_suffix: '',
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab,
        merges: merges.map((m) => m.join(' ')),
      },
    },
    tokenizerConfig: {
      bos_token: null,
      eos_token: '<|im_end|>',
      pad_token: '<|endoftext|>',
      // Qwen2's template, shortened: a default system message, then <|im_start|>role\ncontent<|im_end|>
      chat_template:
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are helpful.<|im_end|>\\n' }}{% endif %}" +
        "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
    },
  };
}

/**
 * SentencePiece-style BPE (Llama 2's tokenizer.json shape): <unk>=0, <s>=1, </s>=2, <0x00>..<0xFF>=3..258,
 * then ▁=259 and letters, then merges ending in ▁hello and ▁world.
 */
export function sentencePieceTokenizer() {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++)
    vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  for (const ch of ['▁', 'h', 'e', 'l', 'o', 'w', 'r', 'd', ','])
    vocab[ch] = Object.keys(vocab).length;
  const merges = [
    ['▁', 'h'],
    ['e', 'l'],
    ['▁h', 'el'],
    ['l', 'o'],
    ['▁hel', 'lo'],
    ['▁', 'w'],
    ['o', 'r'],
    ['▁w', 'or'],
    ['l', 'd'],
    ['▁wor', 'ld'],
  ];
  for (const [a, b] of merges) vocab[a + b] = Object.keys(vocab).length;
  const special = (id: number, content: string) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    tokenizerJson: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
      normalizer: {
        type: 'Sequence',
        normalizers: [
          { type: 'Prepend', prepend: '▁' },
          { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
        ],
      },
      pre_tokenizer: null,
      post_processor: {
        type: 'TemplateProcessing',
        single: [
          { SpecialToken: { id: '<s>', type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
        ],
        pair: [
          { SpecialToken: { id: '<s>', type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { Sequence: { id: 'B', type_id: 1 } },
        ],
        special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
      },
      decoder: {
        type: 'Sequence',
        decoders: [
          { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
          { type: 'ByteFallback' },
          { type: 'Fuse' },
          { type: 'Strip', content: ' ', start: 1, stop: 0 },
        ],
      },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: '<unk>',
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: true,
        byte_fallback: true,
        ignore_merges: false,
        vocab,
        merges: merges.map((m) => m.join(' ')),
      },
    },
    tokenizerConfig: {
      add_bos_token: true,
      add_eos_token: false,
      bos_token: {
        content: '<s>',
        lstrip: false,
        normalized: false,
        rstrip: false,
        single_word: false,
        __type: 'AddedToken',
      },
      eos_token: '</s>',
      unk_token: '<unk>',
      // Llama 2's chat template, shortened (no system-prompt folding)
      chat_template:
        "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}" +
        "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}" +
        "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] | trim + ' [/INST]' }}" +
        "{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] | trim + ' ' + eos_token }}{% endif %}{% endfor %}",
    },
  };
}
