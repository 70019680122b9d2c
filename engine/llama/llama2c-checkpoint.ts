// llama2.c legacy (version 0) checkpoint: a 7 × int32 header, then f32 weights in run.c's order.
// Parsing returns views into the given bytes (copied only when they are not 4-byte aligned).
import type { LlamaConfig } from './config';

export interface LlamaWeights {
  tokenEmbedding: Float32Array; // [vocabSize, dim]
  rmsAtt: Float32Array; // [nLayers, dim]
  wq: Float32Array; // [nLayers, nHeads*headDim, dim]
  wk: Float32Array; // [nLayers, nKvHeads*headDim, dim]
  wv: Float32Array; // [nLayers, nKvHeads*headDim, dim]
  wo: Float32Array; // [nLayers, dim, nHeads*headDim]
  rmsFfn: Float32Array; // [nLayers, dim]
  w1: Float32Array; // [nLayers, hiddenDim, dim]
  w2: Float32Array; // [nLayers, dim, hiddenDim]
  w3: Float32Array; // [nLayers, hiddenDim, dim]
  rmsFinal: Float32Array; // [dim]
  /** The classifier; the same array as tokenEmbedding when shared. */
  wcls: Float32Array; // [vocabSize, dim]
}

export interface Llama2cCheckpoint {
  config: LlamaConfig;
  weights: LlamaWeights;
}

const HEADER_BYTES = 7 * 4;
/** "ak42": the magic of llama2.c's newer export formats (version 1 and 2), which we do not read. */
const AK42_MAGIC = 0x616b3432;

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export function readLlama2cConfig(bytes: Uint8Array): LlamaConfig {
  if (bytes.byteLength < HEADER_BYTES) {
    throw new CheckpointError(
      `llama2.c checkpoint too short: ${bytes.byteLength} bytes, the header alone is ${HEADER_BYTES}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const h = Array.from({ length: 7 }, (_, i) => view.getInt32(i * 4, true));
  if (h[0] === AK42_MAGIC) {
    throw new CheckpointError(
      'llama2.c checkpoint is in the "ak42" (version 1/2) export format; only the legacy version 0 format is supported',
    );
  }
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, rawVocab, seqLen] = h;
  const fields = {
    dim,
    hiddenDim,
    nLayers,
    nHeads,
    nKvHeads,
    vocabSize: Math.abs(rawVocab),
    seqLen,
  };
  for (const [name, value] of Object.entries(fields)) {
    if (!(value > 0 && value <= 1 << 24)) {
      throw new CheckpointError(`llama2.c checkpoint header is malformed: ${name} = ${value}`);
    }
  }
  if (dim % nHeads !== 0)
    throw new CheckpointError(
      `llama2.c checkpoint header is malformed: dim ${dim} is not a multiple of n_heads ${nHeads}`,
    );
  if (nHeads % nKvHeads !== 0) {
    throw new CheckpointError(
      `llama2.c checkpoint header is malformed: n_heads ${nHeads} is not a multiple of n_kv_heads ${nKvHeads}`,
    );
  }
  return {
    ...fields,
    headDim: dim / nHeads,
    ropeTheta: 10000,
    normEps: 1e-5,
    sharedClassifier: rawVocab > 0,
  };
}

/** Number of f32 values the checkpoint body must hold for this config (RoPE tables included). */
export function llama2cFloatCount(c: LlamaConfig): number {
  const kvDim = c.nKvHeads * c.headDim;
  const perLayer = 2 * c.dim + c.dim * c.dim * 2 + c.dim * kvDim * 2 + 3 * c.dim * c.hiddenDim;
  const rope = c.seqLen * c.headDim; // freq_cis_real + freq_cis_imag, seqLen * headDim/2 each
  return (
    c.vocabSize * c.dim +
    c.nLayers * perLayer +
    c.dim +
    rope +
    (c.sharedClassifier ? 0 : c.vocabSize * c.dim)
  );
}

export function parseLlama2cCheckpoint(bytes: Uint8Array): Llama2cCheckpoint {
  const config = readLlama2cConfig(bytes);
  const expected = HEADER_BYTES + llama2cFloatCount(config) * 4;
  if (bytes.byteLength < expected) {
    throw new CheckpointError(
      `llama2.c checkpoint is truncated: ${bytes.byteLength} bytes, the header (${describe(config)}) needs ${expected}`,
    );
  }
  if (bytes.byteLength > expected) {
    throw new CheckpointError(
      `llama2.c checkpoint has ${bytes.byteLength - expected} unexpected trailing bytes for its header (${describe(config)})`,
    );
  }
  const body = floatsOf(bytes.subarray(HEADER_BYTES));
  let offset = 0;
  const take = (n: number) => body.subarray(offset, (offset += n));
  const { dim, hiddenDim, nLayers, vocabSize, seqLen, headDim } = config;
  const kvDim = config.nKvHeads * headDim;
  const tokenEmbedding = take(vocabSize * dim);
  const weights: Omit<LlamaWeights, 'wcls'> = {
    tokenEmbedding,
    rmsAtt: take(nLayers * dim),
    wq: take(nLayers * dim * dim),
    wk: take(nLayers * kvDim * dim),
    wv: take(nLayers * kvDim * dim),
    wo: take(nLayers * dim * dim),
    rmsFfn: take(nLayers * dim),
    w1: take(nLayers * hiddenDim * dim),
    w2: take(nLayers * dim * hiddenDim),
    w3: take(nLayers * hiddenDim * dim),
    rmsFinal: take(dim),
  };
  take(seqLen * headDim); // freq_cis_real, freq_cis_imag: RoPE is computed, not read
  const wcls = config.sharedClassifier ? tokenEmbedding : take(vocabSize * dim);
  return { config, weights: { ...weights, wcls } };
}

function floatsOf(bytes: Uint8Array): Float32Array {
  if (bytes.byteOffset % 4 === 0)
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
  return new Float32Array(bytes.slice().buffer);
}

function describe(c: LlamaConfig): string {
  return `dim ${c.dim}, hidden ${c.hiddenDim}, ${c.nLayers} layers, ${c.nHeads}/${c.nKvHeads} heads, vocab ${c.vocabSize}, seq ${c.seqLen}`;
}
