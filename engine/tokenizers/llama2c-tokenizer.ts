// llama2.c tokenizer.bin and its encode/decode, reproducing run.c byte for byte.
// Format: int32 max_token_length, then per token: f32 score, int32 length, the piece's bytes.
// Pieces are kept as "binary strings" (one char per byte) so invalid UTF-8 pieces stay exact.

export const BOS_ID = 1;
export const EOS_ID = 2;

export class TokenizerError extends Error {
  override name = 'TokenizerError';
}

import { PairHeap, type MergeCandidate } from './pair-heap';
import type { EncodeOptions, TextTokenizer } from './types';

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
        throw new TokenizerError(
          `tokenizer.bin is truncated: ${what} needs bytes ${at}..${at + n}, the file has ${bytes.byteLength}`,
        );
      }
    };
    need(0, 4, 'max_token_length');
    const maxTokenLength = view.getInt32(0, true);
    if (maxTokenLength <= 0)
      throw new TokenizerError(`tokenizer.bin is malformed: max_token_length = ${maxTokenLength}`);
    const pieces: string[] = [];
    const scores: number[] = [];
    let at = 4;
    while (vocabSize === undefined ? at < bytes.byteLength : pieces.length < vocabSize) {
      const id = pieces.length;
      need(at, 8, `token ${id}'s score and length`);
      scores.push(view.getFloat32(at, true));
      const len = view.getInt32(at + 4, true);
      if (len < 0 || len > maxTokenLength) {
        throw new TokenizerError(
          `tokenizer.bin is malformed: token ${id} has length ${len} (max_token_length ${maxTokenLength})`,
        );
      }
      need(at + 8, len, `token ${id}'s bytes`);
      pieces.push(bytesToBinary(bytes.subarray(at + 8, at + 8 + len)));
      at += 8 + len;
    }
    if (pieces.length < 3)
      throw new TokenizerError(`tokenizer.bin has only ${pieces.length} tokens`);
    return new Llama2cTokenizer(pieces, Float32Array.from(scores), maxTokenLength);
  }

  /** run.c encode(): BOS, dummy-prefix " ", one token per UTF-8 char (or byte fallback), greedy merges. */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    const bytes = new TextEncoder().encode(text);
    const tokens: number[] = [];
    if (opts.bos ?? true) tokens.push(BOS_ID);
    if (bytes.length > 0) {
      const prefix = this.lookup.get(' ');
      if (prefix === undefined)
        throw new TokenizerError('tokenizer has no " " piece for the dummy prefix');
      tokens.push(prefix);
    }
    for (let i = 0; i < bytes.length;) {
      // A UTF-8 char: a lead byte and up to three continuation bytes (run.c caps it at 4 bytes).
      let end = i + 1;
      while (end < bytes.length && (bytes[end] & 0xc0) === 0x80 && end - i < 4) end++;
      const id = this.lookup.get(bytesToBinary(bytes.subarray(i, end)));
      if (id !== undefined) tokens.push(id);
      else for (let b = i; b < end; b++) tokens.push(bytes[b] + 3);
      i = end;
    }
    const merged = this.mergeGreedily(tokens);
    if (opts.eos ?? false) merged.push(EOS_ID);
    return merged;
  }

  /**
   * Repeatedly merges the adjacent pair whose concatenation is the best-scoring piece (first wins
   * ties), as run.c does. run.c rescans every pair after each merge (quadratic: ~1 s for a
   * 2000-token prompt); here each pair is scored once into a heap, and a merge scores just the two
   * new pairs it makes, O(n log n) with the same result. Heap entries outdated by a merge are
   * skipped when popped rather than removed.
   */
  private mergeGreedily(tokens: number[]): number[] {
    const symbols = new SymbolList(tokens);
    const heap = new PairHeap();
    for (let i = 0; i + 1 < tokens.length; i++) this.pushPair(heap, symbols, i);
    for (let c = heap.pop(); c !== undefined; c = heap.pop()) {
      if (!symbols.isCurrent(c)) continue;
      symbols.merge(c.left, c.id);
      this.pushPair(heap, symbols, symbols.prev[c.left]);
      this.pushPair(heap, symbols, c.left);
    }
    return symbols.toArray();
  }

  /** Pushes the merge of symbol `left` with its right neighbour, if that makes a piece run.c would take. */
  private pushPair(heap: PairHeap, symbols: SymbolList, left: number): void {
    if (left === NONE) return;
    const right = symbols.next[left];
    if (right === NONE) return;
    const id = this.lookup.get(
      this.pieces[symbols.token[left]] + this.pieces[symbols.token[right]],
    );
    if (id === undefined) return;
    const score = this.scores[id];
    // run.c's best score starts at -1e10 and must be beaten: lower (and NaN) scores never merge.
    if (!(score > -1e10)) return;
    heap.push({
      score,
      id,
      left,
      right,
      leftVersion: symbols.version[left],
      rightVersion: symbols.version[right],
    });
  }

  /**
   * run.c decode(prev, next): the bytes of `next`, without its leading space right after BOS, and
   * `<0xXX>` pieces as the raw byte. The result is a view: do not modify it.
   */
  decodePiece(prev: number, next: number): Uint8Array {
    let bytes = this.pieceBytes[next];
    if (bytes === undefined)
      throw new TokenizerError(`token id ${next} is outside the vocabulary (${this.vocabSize})`);
    if (prev === BOS_ID && bytes[0] === 0x20) bytes = bytes.subarray(1);
    const byte = parseBytePiece(bytes);
    return byte === -1 ? bytes : BYTE_PIECES.subarray(byte, byte + 1);
  }
}

const NONE = -1;

/**
 * The tokens being merged, as a doubly linked list indexed by original position: a merge keeps the
 * left symbol (with the merged token) and unlinks the right one, so positions stay in list order.
 */
class SymbolList {
  readonly token: Int32Array;
  readonly prev: Int32Array;
  readonly next: Int32Array;
  /** Bumped whenever a symbol's token changes or it is unlinked, to spot stale heap entries. */
  readonly version: Uint32Array;
  /** The first symbol is never unlinked: merges remove right-hand symbols only. */
  private readonly head = 0;

  constructor(tokens: readonly number[]) {
    const n = tokens.length;
    this.token = Int32Array.from(tokens);
    this.prev = Int32Array.from({ length: n }, (_, i) => i - 1);
    this.next = Int32Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : NONE));
    this.version = new Uint32Array(n);
  }

  /**
   * Whether a candidate still describes two neighbours as they are now. A symbol's right neighbour
   * changes only when it merges or that neighbour does, and both bump a version.
   */
  isCurrent(c: MergeCandidate): boolean {
    return this.version[c.left] === c.leftVersion && this.version[c.right] === c.rightVersion;
  }

  /** Replaces `left` and its right neighbour with one symbol of token `id`, at `left`'s place. */
  merge(left: number, id: number): void {
    const right = this.next[left];
    const after = this.next[right];
    this.token[left] = id;
    this.version[left]++;
    this.version[right]++;
    this.next[left] = after;
    if (after !== NONE) this.prev[after] = left;
  }

  toArray(): number[] {
    const out: number[] = [];
    if (this.token.length === 0) return out;
    for (let i = this.head; i !== NONE; i = this.next[i]) out.push(this.token[i]);
    return out;
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
