// Grammar room: a model's vocabulary as the grammar engine sees it: each token's bytes, the end
// tokens (allowed exactly when the grammar is complete), and a token trie over the bytes.
import type { TextTokenizer } from '../tokenizers/types';
import { TokenTrie } from './token-trie';

export class Vocab {
  /** Mask length in tokens (the model's vocabulary; ids beyond the tokenizer's are never allowed). */
  readonly size: number;
  readonly trie: TokenTrie;

  constructor(
    /** Each token's bytes; empty for tokens that never appear in constrained text (specials). */
    readonly tokens: readonly Uint8Array[],
    /** Tokens that end the output. */
    readonly eosIds: readonly number[],
    size = tokens.length,
  ) {
    this.size = size;
    const eos = new Set(eosIds);
    this.trie = new TokenTrie(tokens.map((t, id) => (eos.has(id) ? EMPTY : t)));
  }
}

const EMPTY = new Uint8Array(0);

/**
 * The vocabulary of any TextTokenizer: each token's bytes as decodePiece gives them mid-text (the
 * previous token is not BOS, so llama2.c's leading-space strip does not apply; byte-fallback
 * `<0x0A>`, SentencePiece '▁' and GPT-2 byte-level pieces all come out as raw bytes). BOS,
 * SentencePiece's `<unk>` piece, `exclude`d ids and tokens that decode to nothing are left out;
 * stopIds are the end tokens.
 */
export function vocabBytes(
  tokenizer: TextTokenizer,
  opts: { exclude?: number[]; size?: number } = {},
): Vocab {
  const skip = new Set([
    ...(opts.exclude ?? []),
    ...(tokenizer.bosId === null ? [] : [tokenizer.bosId]),
  ]);
  const tokens: Uint8Array[] = [];
  for (let id = 0; id < tokenizer.vocabSize; id++) {
    const bytes = skip.has(id) ? EMPTY : tokenizer.decodePiece(-1, id);
    tokens.push(isUnk(bytes) ? EMPTY : bytes.slice());
  }
  return new Vocab(tokens, tokenizer.stopIds, opts.size);
}

const UNK = [...'<unk>'].map((c) => c.charCodeAt(0));
const isUnk = (b: Uint8Array) => b.length === UNK.length && UNK.every((c, i) => b[i] === c);

/** GPT-2's bytes_to_unicode(): the char standing for each byte, inverted. */
function byteLevelDecoder(): Map<string, number> {
  const keep: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) keep.push(b);
  for (let b = 0xa1; b <= 0xac; b++) keep.push(b);
  for (let b = 0xae; b <= 0xff; b++) keep.push(b);
  const map = new Map<string, number>();
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    map.set(String.fromCharCode(keep.includes(b) ? b : 256 + extra++), b);
  }
  return map;
}

interface TokenizerJson {
  model: { vocab: Record<string, number> };
  added_tokens?: { id: number; content: string; special?: boolean }[];
}

/**
 * The vocabulary straight from a byte-level BPE tokenizer.json (DeepSeek-V3, Qwen, GPT-2): model
 * vocab pieces decoded through bytes_to_unicode, special added tokens left out, `eos` named by
 * content.
 */
export function byteLevelVocab(json: TokenizerJson, eos: string[], size?: number): Vocab {
  const decode = byteLevelDecoder();
  const utf8 = new TextEncoder();
  const tokens: Uint8Array[] = [];
  const eosIds: number[] = [];
  for (const [piece, id] of Object.entries(json.model.vocab)) {
    const bytes: number[] = [];
    let plain = true;
    for (const ch of piece) {
      const b = decode.get(ch);
      if (b === undefined) plain = false;
      else bytes.push(b);
    }
    tokens[id] = plain ? Uint8Array.from(bytes) : utf8.encode(piece);
  }
  for (const t of json.added_tokens ?? []) {
    tokens[t.id] = t.special ? EMPTY : utf8.encode(t.content);
    if (eos.includes(t.content)) eosIds.push(t.id);
  }
  for (let i = 0; i < tokens.length; i++) tokens[i] ??= EMPTY;
  return new Vocab(tokens, eosIds, Math.max(size ?? 0, tokens.length));
}
