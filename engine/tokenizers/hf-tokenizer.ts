// tokenizer.json (+ tokenizer_config.json) through @huggingface/tokenizers, behind the engine's
// TextTokenizer. Encoding is the library's; decoding is per token, as bytes, so a stream can emit whole
// UTF-8 characters only: each token's bytes are derived once from its decoder (byte-level BPE as in
// GPT-2/Qwen, or SentencePiece-style '▁' + <0xXX> byte fallback as in Llama).
import { Tokenizer } from '@huggingface/tokenizers';
import type { EncodeOptions, TextTokenizer } from './types';

export interface HfTokenizerOptions {
  /** The model's vocabulary (may exceed the tokenizer's: padded embeddings decode to nothing). */
  vocabSize?: number;
  /** Ids that end generation, beyond the tokenizer's EOS. */
  stopIds?: number[];
}

type Json = Record<string, unknown>;

/** GPT-2's bytes_to_unicode(), inverted: the code of the char standing for each byte → the byte (-1: none). */
const BYTE_OF_CHAR: Int16Array = (() => {
  const keep = (b: number) =>
    (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const table = new Int16Array(256 + 68).fill(-1);
  let n = 0;
  for (let b = 0; b < 256; b++) table[keep(b) ? b : 256 + n++] = b;
  return table;
})();

type DecodeStyle =
  { kind: 'byte-level' } | { kind: 'sentencepiece'; stripFirst: boolean } | { kind: 'library' };

/** Which per-token decoding reproduces the tokenizer's decoder. */
function decodeStyle(decoder: Json | null | undefined): DecodeStyle {
  if (!decoder) return { kind: 'library' };
  const parts = decoder.type === 'Sequence' ? ((decoder.decoders as Json[]) ?? []) : [decoder];
  const types = parts.map((d) => d.type);
  if (types.includes('ByteLevel')) return { kind: 'byte-level' };
  const metaspace = parts.find((d) => d.type === 'Metaspace');
  if (metaspace)
    return {
      kind: 'sentencepiece',
      stripFirst: metaspace.add_prefix_space !== false && metaspace.prepend_scheme !== 'never',
    };
  const replacesSpace = parts.some(
    (d) => d.type === 'Replace' && (d.pattern as Json | undefined)?.String === '▁',
  );
  if (replacesSpace)
    return {
      kind: 'sentencepiece',
      stripFirst: parts.some((d) => d.type === 'Strip' && Number(d.start) > 0),
    };
  return { kind: 'library' };
}

const tokenContent = (t: unknown): string | null =>
  typeof t === 'string'
    ? t
    : t && typeof t === 'object' && typeof (t as Json).content === 'string'
      ? ((t as Json).content as string)
      : null;

export class HfTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly stopIds: readonly number[];
  readonly eosId: number | null;
  /** Special tokens by text (bos_token, eos_token, …) for chat templates. */
  readonly specialTokens: Record<string, string>;
  private readonly lib: Tokenizer;
  private readonly pieceBytes: Uint8Array;
  private readonly pieceStart: Uint32Array;
  private readonly stripFirst: boolean;
  /** tokenizer_config's add_bos_token where the post-processor does not add BOS itself. */
  private readonly prependBos: boolean;

  constructor(tokenizerJson: object, tokenizerConfig: object = {}, opts: HfTokenizerOptions = {}) {
    this.lib = new Tokenizer(tokenizerJson, tokenizerConfig);
    const json = tokenizerJson as Json;
    const config = tokenizerConfig as Json;
    const idOf = (key: string) => {
      const text = tokenContent(config[key]);
      return text === null ? null : (this.lib.token_to_id(text) ?? null);
    };
    this.vocabSize = Math.max(opts.vocabSize ?? 0, this.lib.get_vocab(true).size, this.idCount());
    this.bosId = idOf('bos_token');
    this.eosId = idOf('eos_token');
    this.stopIds = [
      ...new Set([...(this.eosId === null ? [] : [this.eosId]), ...(opts.stopIds ?? [])]),
    ];
    this.specialTokens = Object.fromEntries(
      ['bos_token', 'eos_token', 'unk_token', 'pad_token']
        .map((k) => [k, tokenContent(config[k])])
        .filter((e): e is [string, string] => e[1] !== null),
    );
    // transformers' LlamaTokenizerFast honours add_bos_token (DeepSeek-V3's tokenizer.json has a bare
    // ByteLevel post-processor); the JS library does not, so a prompt would lose its BOS
    this.prependBos =
      config.add_bos_token === true &&
      this.bosId !== null &&
      !this.lib.encode('', { add_special_tokens: true }).ids.includes(this.bosId);
    const style = decodeStyle(json.decoder as Json | null);
    this.stripFirst = style.kind === 'sentencepiece' && style.stripFirst;
    [this.pieceBytes, this.pieceStart] = this.buildPieces(style);
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const bos = opts.bos ?? true;
    const ids = this.lib.encode(text, { add_special_tokens: bos }).ids;
    if (bos && this.prependBos) ids.unshift(this.bosId!);
    if (opts.eos && this.eosId !== null) ids.push(this.eosId);
    return ids;
  }

  decodePiece(prev: number, next: number): Uint8Array {
    if (!(next >= 0 && next < this.vocabSize))
      throw new RangeError(`token id ${next} is outside the vocabulary (${this.vocabSize})`);
    if (next + 1 >= this.pieceStart.length) return this.pieceBytes.subarray(0, 0);
    const bytes = this.pieceBytes.subarray(this.pieceStart[next], this.pieceStart[next + 1]);
    // SentencePiece's decoder drops the space it prepended to the text; right after BOS is where that was
    return this.stripFirst && prev === this.bosId && bytes[0] === 0x20 ? bytes.subarray(1) : bytes;
  }

  /** The id of a token by its text (a vocabulary entry or an added token), or null. */
  tokenId(text: string): number | null {
    return this.lib.token_to_id(text) ?? null;
  }

  /** The text of a whole sequence, as the library decodes it (special tokens skipped). */
  decode(ids: number[]): string {
    return this.lib.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false });
  }

  /** One past the largest id, vocabulary and added tokens (a loop: a spread of 128K ids overflows the stack). */
  private idCount(): number {
    let max = -1;
    for (const id of this.lib.get_vocab(true).values()) if (id > max) max = id;
    for (const id of this.lib.get_added_tokens_decoder().keys()) if (id > max) max = id;
    return max + 1;
  }

  /** Every token's bytes in one buffer plus start offsets (a Uint8Array per token would cost ~100 B each). */
  private buildPieces(style: DecodeStyle): [Uint8Array, Uint32Array] {
    const encoder = new TextEncoder();
    const added = this.lib.get_added_tokens_decoder();
    const special = new Set([...added.values()].filter((t) => t.special).map((t) => t.id));
    const count = this.idCount();
    const chunks: Uint8Array[] = [];
    const start = new Uint32Array(count + 1);
    let total = 0;
    for (let id = 0; id < count; id++) {
      const token = this.lib.id_to_token(id);
      const bytes =
        token === undefined || special.has(id)
          ? new Uint8Array(0)
          : added.has(id)
            ? encoder.encode(token)
            : this.bytesOf(token, id, style, encoder);
      chunks.push(bytes);
      total += bytes.length;
      start[id + 1] = total;
    }
    const all = new Uint8Array(total);
    chunks.forEach((c, id) => all.set(c, start[id]));
    return [all, start];
  }

  private bytesOf(token: string, id: number, style: DecodeStyle, encoder: TextEncoder): Uint8Array {
    if (style.kind === 'byte-level') {
      const out = new Uint8Array(token.length);
      for (let i = 0; i < token.length; i++) {
        const b = BYTE_OF_CHAR[token.charCodeAt(i)] ?? -1;
        if (b < 0) return encoder.encode(token); // not a byte-level piece: its text as is
        out[i] = b;
      }
      return out;
    }
    if (style.kind === 'sentencepiece') {
      const byte = /^<0x([0-9A-Fa-f]{2})>$/.exec(token);
      return byte
        ? Uint8Array.of(parseInt(byte[1], 16))
        : encoder.encode(token.replaceAll('▁', ' '));
    }
    return encoder.encode(this.lib.decode([id], { clean_up_tokenization_spaces: false }));
  }
}
