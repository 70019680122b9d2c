// Deterministic synthetic llama2.c files: random-weight checkpoints of any shape and a tokenizer.bin
// of any vocab size. For benchmarks (speed does not depend on weight values) and the demo model.
import type { LlamaConfig } from './config';
import { llama2cFloatCount } from './llama2c-checkpoint';

export type SyntheticShape = Pick<
  LlamaConfig,
  'dim' | 'hiddenDim' | 'nLayers' | 'nHeads' | 'nKvHeads' | 'vocabSize' | 'seqLen'
> &
  Partial<Pick<LlamaConfig, 'sharedClassifier'>>;

/** llama2.c stories15M and stories110M shapes. */
export const STORIES15M_SHAPE: SyntheticShape = {
  dim: 288,
  hiddenDim: 768,
  nLayers: 6,
  nHeads: 6,
  nKvHeads: 6,
  vocabSize: 32000,
  seqLen: 256,
};
export const STORIES110M_SHAPE: SyntheticShape = {
  dim: 768,
  hiddenDim: 2048,
  nLayers: 12,
  nHeads: 12,
  nKvHeads: 12,
  vocabSize: 32000,
  seqLen: 1024,
};

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A llama2.c v0 checkpoint: matrices uniform with standard deviation 0.02, norm weights 1 ± 0.1,
 * the RoPE tables zero (readers skip them).
 */
export function syntheticLlama2cCheckpoint(shape: SyntheticShape, seed = 1): Uint8Array {
  const shared = shape.sharedClassifier ?? true;
  const c: LlamaConfig = {
    ...shape,
    headDim: shape.dim / shape.nHeads,
    ropeTheta: 10000,
    normEps: 1e-5,
    sharedClassifier: shared,
  };
  if (!Number.isInteger(c.headDim) || c.headDim % 2 !== 0)
    throw new RangeError(`dim ${c.dim} / nHeads ${c.nHeads} must be an even integer`);
  const n = llama2cFloatCount(c);
  const bytes = new Uint8Array(28 + n * 4);
  new Int32Array(bytes.buffer, 0, 7).set([
    c.dim,
    c.hiddenDim,
    c.nLayers,
    c.nHeads,
    c.nKvHeads,
    shared ? c.vocabSize : -c.vocabSize,
    c.seqLen,
  ]);
  const body = new Float32Array(bytes.buffer, 28, n);
  const random = mulberry32(seed);
  const fill = (at: number, count: number, center: number, halfWidth: number) => {
    for (let i = at; i < at + count; i++) body[i] = center + (2 * random() - 1) * halfWidth;
    return at + count;
  };
  const matrix = (at: number, count: number) => fill(at, count, 0, 0.02 * Math.sqrt(3));
  const norm = (at: number, count: number) => fill(at, count, 1, 0.1);
  const { dim, hiddenDim, nLayers, vocabSize } = c;
  const kvDim = c.nKvHeads * c.headDim;
  let at = matrix(0, vocabSize * dim);
  at = norm(at, nLayers * dim);
  at = matrix(at, nLayers * dim * dim); // wq
  at = matrix(at, 2 * nLayers * kvDim * dim); // wk, wv
  at = matrix(at, nLayers * dim * dim); // wo
  at = norm(at, nLayers * dim);
  at = matrix(at, 3 * nLayers * dim * hiddenDim); // w1, w2, w3
  at = norm(at, dim);
  at += c.seqLen * c.headDim; // freq_cis_real, freq_cis_imag
  if (!shared) matrix(at, vocabSize * dim);
  return bytes;
}

const WORDS = (
  'the and a to was he she it of in that his her they with for on you is said had but at there one day ' +
  'once upon time little girl boy named lily tom ben mom dad big happy sad play played wanted saw went ' +
  'ball tree park dog cat bird friend friends fun very so not be have what all were are can do like'
).split(' ');
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Pieces after the specials and bytes, in merge-priority order; every prefix comes before its word. */
function* syntheticPieces(): Generator<string> {
  yield ' ';
  for (let b = 33; b < 127; b++) yield String.fromCharCode(b);
  for (const word of WORDS) {
    for (let n = 2; n <= word.length; n++) yield word.slice(0, n);
    for (let n = 1; n <= word.length; n++) yield ' ' + word.slice(0, n);
  }
  for (const a of LETTERS) for (const b of LETTERS) yield a + b;
  for (const a of LETTERS) for (const b of LETTERS) yield ' ' + a + b;
  for (const a of LETTERS) for (const b of LETTERS) for (const d of LETTERS) yield a + b + d;
  for (const a of LETTERS) for (const b of LETTERS) for (const d of LETTERS) yield ' ' + a + b + d;
  for (let i = 0; ; i++) yield `<extra_${i}>`;
}

/**
 * A llama2.c tokenizer.bin: <unk>, "\n<s>\n", "\n</s>\n", the 256 byte pieces <0x00>..<0xFF>
 * (ids 3..258), then " ", printable ASCII, common words and letter n-grams, scored by rank.
 */
export function syntheticLlama2cTokenizer(vocabSize: number): Uint8Array {
  if (vocabSize < 260)
    throw new RangeError(
      `a synthetic tokenizer needs at least 260 tokens (specials, bytes, " "), got ${vocabSize}`,
    );
  const pieces: [string, number][] = [
    ['<unk>', 0],
    ['\n<s>\n', 0],
    ['\n</s>\n', 0],
  ];
  for (let b = 0; b < 256; b++)
    pieces.push([`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, 0]);
  const seen = new Set(pieces.map(([p]) => p));
  for (const piece of syntheticPieces()) {
    if (pieces.length >= vocabSize) break;
    if (seen.has(piece)) continue;
    seen.add(piece);
    pieces.push([piece, -(pieces.length - 258)]);
  }
  return encodeLlama2cTokenizer(pieces);
}

/** Serializes [piece, score] pairs in the llama2.c tokenizer.bin format (pieces as UTF-8). */
export function encodeLlama2cTokenizer(pieces: [string, number][]): Uint8Array {
  const encoder = new TextEncoder();
  const encoded = pieces.map(([p]) => encoder.encode(p));
  const maxLen = encoded.reduce((max, e) => Math.max(max, e.length), 0); // no spread: vocab-sized
  const bytes = new Uint8Array(4 + encoded.reduce((sum, e) => sum + 8 + e.length, 0));
  const view = new DataView(bytes.buffer);
  view.setInt32(0, maxLen, true);
  let at = 4;
  encoded.forEach((e, i) => {
    view.setFloat32(at, pieces[i][1], true);
    view.setInt32(at + 4, e.length, true);
    bytes.set(e, at + 8);
    at += 8 + e.length;
  });
  return bytes;
}
