// llama2.c tokenizer.bin and its encode/decode, reproducing run.c byte for byte.
// Format: int32 max_token_length, then per token: f32 score, int32 length, the piece's bytes.
// Pieces are kept as "binary strings" (one char per byte) so invalid UTF-8 pieces stay exact.

export const BOS_ID = 1;
export const EOS_ID = 2;

export class TokenizerError extends Error {
  override name = 'TokenizerError';
}

import type { EncodeOptions, TextTokenizer } from './tokenizers/types';

export type { EncodeOptions };

export class Llama2cTokenizer implements TextTokenizer {
  readonly vocabSize: number;
  readonly bosId = BOS_ID;
  /** llama2.c's models end a story with BOS; EOS for completeness. */
  readonly stopIds: readonly number[] = [BOS_ID, EOS_ID];
  private readonly lookup = new Map<string, number>();
  /** Raw bytes of each piece, for decoding. */
  private readonly pieceBytes: Uint8Array[];

  constructor(
    readonly pieces: string[],
    readonly scores: Float32Array,
    readonly maxTokenLength: number,
  ) {
    this.vocabSize = pieces.length;
    this.pieceBytes = pieces.map(binaryToBytes);
    // run.c binary-searches a sorted copy; for duplicate pieces the first id is as good a pick.
    pieces.forEach((p, id) => {
      if (!this.lookup.has(p)) this.lookup.set(p, id);
    });
  }

  /** Parses tokenizer.bin. vocabSize comes from the model (run.c); without it, reads to the end. */
  static fromBytes(bytes: Uint8Array, vocabSize?: number): Llama2cTokenizer {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const need = (at: number, n: number, what: string) => {
      if (at + n > bytes.byteLength) {
        throw new TokenizerError(`tokenizer.bin is truncated: ${what} needs bytes ${at}..${at + n}, the file has ${bytes.byteLength}`);
      }
    };
    need(0, 4, 'max_token_length');
    const maxTokenLength = view.getInt32(0, true);
    if (maxTokenLength <= 0) throw new TokenizerError(`tokenizer.bin is malformed: max_token_length = ${maxTokenLength}`);
    const pieces: string[] = [];
    const scores: number[] = [];
    let at = 4;
    while (vocabSize === undefined ? at < bytes.byteLength : pieces.length < vocabSize) {
      const id = pieces.length;
      need(at, 8, `token ${id}'s score and length`);
      scores.push(view.getFloat32(at, true));
      const len = view.getInt32(at + 4, true);
      if (len < 0 || len > maxTokenLength) {
        throw new TokenizerError(`tokenizer.bin is malformed: token ${id} has length ${len} (max_token_length ${maxTokenLength})`);
      }
      need(at + 8, len, `token ${id}'s bytes`);
      pieces.push(bytesToBinary(bytes.subarray(at + 8, at + 8 + len)));
      at += 8 + len;
    }
    if (pieces.length < 3) throw new TokenizerError(`tokenizer.bin has only ${pieces.length} tokens`);
    return new Llama2cTokenizer(pieces, Float32Array.from(scores), maxTokenLength);
  }

  /** run.c encode(): BOS, dummy-prefix " ", one token per UTF-8 char (or byte fallback), greedy merges. */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    const bytes = new TextEncoder().encode(text);
    const tokens: number[] = [];
    if (opts.bos ?? true) tokens.push(BOS_ID);
    if (bytes.length > 0) {
      const prefix = this.lookup.get(' ');
      if (prefix === undefined) throw new TokenizerError('tokenizer has no " " piece for the dummy prefix');
      tokens.push(prefix);
    }
    for (let i = 0; i < bytes.length; ) {
      // A UTF-8 char: a lead byte and up to three continuation bytes (run.c caps it at 4 bytes).
      let end = i + 1;
      while (end < bytes.length && (bytes[end] & 0xc0) === 0x80 && end - i < 4) end++;
      const id = this.lookup.get(bytesToBinary(bytes.subarray(i, end)));
      if (id !== undefined) tokens.push(id);
      else for (let b = i; b < end; b++) tokens.push(bytes[b] + 3);
      i = end;
    }
    this.mergeGreedily(tokens);
    if (opts.eos ?? false) tokens.push(EOS_ID);
    return tokens;
  }

  /** Repeatedly merges the adjacent pair whose concatenation is the best-scoring piece (first wins ties). */
  private mergeGreedily(tokens: number[]): void {
    for (;;) {
      let bestScore = -1e10;
      let bestId = -1;
      let bestIdx = -1;
      for (let i = 0; i < tokens.length - 1; i++) {
        const id = this.lookup.get(this.pieces[tokens[i]] + this.pieces[tokens[i + 1]]);
        if (id !== undefined && this.scores[id] > bestScore) {
          bestScore = this.scores[id];
          bestId = id;
          bestIdx = i;
        }
      }
      if (bestIdx === -1) return;
      tokens.splice(bestIdx, 2, bestId);
    }
  }

  /**
   * run.c decode(prev, next): the bytes of `next`, without its leading space right after BOS, and
   * `<0xXX>` pieces as the raw byte. The result is a view: do not modify it.
   */
  decodePiece(prev: number, next: number): Uint8Array {
    let bytes = this.pieceBytes[next];
    if (bytes === undefined) throw new TokenizerError(`token id ${next} is outside the vocabulary (${this.vocabSize})`);
    if (prev === BOS_ID && bytes[0] === 0x20) bytes = bytes.subarray(1);
    const byte = parseBytePiece(bytes);
    return byte === -1 ? bytes : BYTE_PIECES.subarray(byte, byte + 1);
  }
}

const BYTE_PIECES = Uint8Array.from({ length: 256 }, (_, i) => i);
const HEX = /^<0x([0-9A-Fa-f]{1,2})/;

/** run.c's sscanf(piece, "<0x%02hhX>"): the byte, or -1 when the piece is not a byte piece. */
function parseBytePiece(bytes: Uint8Array): number {
  if (bytes.length < 4 || bytes[0] !== 0x3c) return -1;
  const m = HEX.exec(bytesToBinary(bytes));
  return m ? parseInt(m[1], 16) : -1;
}

function bytesToBinary(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

function binaryToBytes(s: string): Uint8Array {
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
}

/**
 * What run.c's safe_printf() writes for a decoded piece: the bytes up to the first NUL, except a
 * lone byte that is neither printable nor whitespace (C locale), which it skips.
 */
export function runcPrintable(piece: Uint8Array): Uint8Array {
  const nul = piece.indexOf(0);
  const bytes = nul === -1 ? piece : piece.subarray(0, nul);
  if (bytes.length === 1) {
    const b = bytes[0];
    const printable = b >= 0x20 && b <= 0x7e;
    const space = b >= 0x09 && b <= 0x0d;
    if (!printable && !space) return bytes.subarray(0, 0);
  }
  return bytes;
}
