// GGUF's tokenizer metadata ↔ tokenizer files. "llama" (SentencePiece: tokens + scores) is llama2.c's
// tokenizer.bin (same greedy score merges as llama.cpp's SPM tokenizer; '▁' stored as ' '); "gpt2"
// (byte-level BPE: tokens + merges) becomes a tokenizer.json whose pre-tokenizer regex is the one
// `tokenizer.ggml.pre` names.
import { encodeLlama2cTokenizer } from '../llama/synthetic';
import { Llama2cTokenizer } from '../tokenizers/llama2c-tokenizer';
import type { GgufValue } from './gguf-writer';
import { jsonBytes } from './imported-model';

export interface GgufTokenizerFields {
  'tokenizer.ggml.model'?: string;
  'tokenizer.ggml.pre'?: string;
  'tokenizer.ggml.tokens'?: string[];
  'tokenizer.ggml.scores'?: number[];
  'tokenizer.ggml.token_type'?: number[];
  'tokenizer.ggml.merges'?: string[];
  'tokenizer.ggml.bos_token_id'?: number | bigint;
  'tokenizer.ggml.eos_token_id'?: number | bigint;
  'tokenizer.ggml.add_bos_token'?: boolean;
  'tokenizer.chat_template'?: string;
}

/** llama.cpp token types. */
const NORMAL = 1,
  UNKNOWN = 2,
  CONTROL = 3,
  BYTE = 6;

export const PRETOKENIZER_PATTERNS: Record<string, string> = {
  'gpt-2': "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
  qwen2:
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  'llama-bpe':
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
};

export function tokenizerFilesFromGguf(md: GgufTokenizerFields): Record<string, Uint8Array> {
  const tokens = md['tokenizer.ggml.tokens'];
  if (!tokens) throw new Error('GGUF has no tokenizer.ggml.tokens');
  const types = md['tokenizer.ggml.token_type'] ?? [];
  const id = (v: number | bigint | undefined) => (v === undefined ? null : Number(v));
  const bos = id(md['tokenizer.ggml.bos_token_id']);
  const eos = id(md['tokenizer.ggml.eos_token_id']);
  const config: Record<string, unknown> = {
    bos_token: bos === null ? null : tokens[bos],
    eos_token: eos === null ? null : tokens[eos],
    add_bos_token: md['tokenizer.ggml.add_bos_token'] ?? md['tokenizer.ggml.model'] === 'llama',
    ...(md['tokenizer.chat_template'] ? { chat_template: md['tokenizer.chat_template'] } : {}),
  };
  const model = md['tokenizer.ggml.model'];
  if (model === 'llama') {
    const scores = md['tokenizer.ggml.scores'] ?? tokens.map(() => 0);
    const bin = encodeLlama2cTokenizer(
      tokens.map((t, i) => [t.replaceAll('▁', ' '), Number(scores[i])]),
    );
    return {
      'tokenizer.bin': bin,
      'tokenizer_config.json': jsonBytes({ ...config, tokenizer_class: 'Llama2cTokenizer' }),
    };
  }
  if (model !== 'gpt2')
    throw new Error(`GGUF tokenizer model ${JSON.stringify(model)} is not supported (llama, gpt2)`);
  const pattern =
    PRETOKENIZER_PATTERNS[md['tokenizer.ggml.pre'] ?? 'gpt-2'] ?? PRETOKENIZER_PATTERNS['gpt-2'];
  const special = tokens
    .map((content, i) => ({ content, i }))
    .filter(({ i }) => types[i] === CONTROL);
  const byteLevel = {
    type: 'ByteLevel',
    add_prefix_space: false,
    trim_offsets: false,
    use_regex: false,
  };
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special.map(({ content, i }) => ({
      id: i,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false },
        byteLevel,
      ],
    },
    post_processor:
      config.add_bos_token && bos !== null
        ? {
            type: 'TemplateProcessing',
            single: [
              { SpecialToken: { id: tokens[bos], type_id: 0 } },
              { Sequence: { id: 'A', type_id: 0 } },
            ],
            pair: [
              { SpecialToken: { id: tokens[bos], type_id: 0 } },
              { Sequence: { id: 'A', type_id: 0 } },
              { Sequence: { id: 'B', type_id: 1 } },
            ],
            special_tokens: {
              [tokens[bos]]: { id: tokens[bos], ids: [bos], tokens: [tokens[bos]] },
            },
          }
        : byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(tokens.map((t, i) => [t, i])),
      merges: md['tokenizer.ggml.merges'] ?? [],
    },
  };
  return { 'tokenizer.json': jsonBytes(json), 'tokenizer_config.json': jsonBytes(config) };
}

/** GGUF metadata for a llama2.c tokenizer.bin (SentencePiece-style, as llama.cpp's converter writes Llama 2's). */
export function ggufTokenizerFromLlama2c(
  bin: Uint8Array,
  vocabSize?: number,
): [string, GgufValue][] {
  const t = Llama2cTokenizer.fromBytes(bin, vocabSize);
  const tokens = t.pieces.map((p) =>
    new TextDecoder().decode(Uint8Array.from(p, (c) => c.charCodeAt(0))).replaceAll(' ', '▁'),
  );
  const types = tokens.map((_, i) =>
    i === 0 ? UNKNOWN : i <= 2 ? CONTROL : i <= 258 ? BYTE : NORMAL,
  );
  return [
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'array', of: 'string', value: tokens }],
    ['tokenizer.ggml.scores', { type: 'array', of: 'f32', value: t.scores }],
    ['tokenizer.ggml.token_type', { type: 'array', of: 'i32', value: types }],
    ['tokenizer.ggml.bos_token_id', { type: 'u32', value: 1 }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: 2 }],
    ['tokenizer.ggml.unknown_token_id', { type: 'u32', value: 0 }],
  ];
}

/** GGUF metadata for a byte-level BPE tokenizer.json (GPT-2/Qwen2 style). */
export function ggufTokenizerFromJson(
  json: Record<string, unknown>,
  config: Record<string, unknown>,
  pre: string,
): [string, GgufValue][] {
  const model = json.model as {
    vocab: Record<string, number>;
    merges: (string | [string, string])[];
  };
  const added = (json.added_tokens as { id: number; content: string; special: boolean }[]) ?? [];
  // a loop, not Math.max(...ids): a spread of a 128K vocabulary overflows the stack
  let size = 0;
  for (const id of Object.values(model.vocab)) size = Math.max(size, id + 1);
  for (const a of added) size = Math.max(size, a.id + 1);
  const tokens = new Array<string>(size).fill('');
  const types = new Array<number>(size).fill(NORMAL);
  for (const [t, i] of Object.entries(model.vocab)) tokens[i] = t;
  for (const a of added) {
    tokens[a.id] = a.content;
    if (a.special) types[a.id] = CONTROL;
  }
  const idOf = (key: string) =>
    typeof config[key] === 'string' ? tokens.indexOf(config[key] as string) : -1;
  const kv: [string, GgufValue][] = [
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: 'string', value: pre }],
    ['tokenizer.ggml.tokens', { type: 'array', of: 'string', value: tokens }],
    ['tokenizer.ggml.token_type', { type: 'array', of: 'i32', value: types }],
    [
      'tokenizer.ggml.merges',
      {
        type: 'array',
        of: 'string',
        value: model.merges.map((m) => (typeof m === 'string' ? m : m.join(' '))),
      },
    ],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: false }],
  ];
  if (idOf('eos_token') >= 0)
    kv.push(['tokenizer.ggml.eos_token_id', { type: 'u32', value: idOf('eos_token') }]);
  if (typeof config.chat_template === 'string')
    kv.push(['tokenizer.chat_template', { type: 'string', value: config.chat_template }]);
  return kv;
}
