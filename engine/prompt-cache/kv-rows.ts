// GQA KV rows (GqaKvRows): a run of positions of a Llama session's KV cache, copied out of (or into)
// backend memory. The session keeps, per layer, [seqLen, nKvHeads*headDim] keys and values
// (llama/kv-cache.ts: f32, or int8 read back dequantized); a GqaKvRows holds the same rows for positions [start, start+count) of every
// layer, layer-major. (The origin's KvRows, origin/backend/step-backend.ts, is a backend's opaque copy.)
import type { KernelBackend } from '../../kernels-wasm/types';
import type { SessionBuffers } from '../llama/forward';
import type { LlamaConfig } from '../llama/config';
import { readKv, writeKv } from '../llama/kv-cache';
import { ropeInverseFrequencies } from '../llama/rope';

export interface KvShape {
  nLayers: number;
  nKvHeads: number;
  headDim: number;
}

export interface GqaKvRows extends KvShape {
  /** First position held. */
  start: number;
  count: number;
  keys: Float32Array; // [nLayers, count, nKvHeads*headDim], RoPE already applied
  values: Float32Array; // [nLayers, count, nKvHeads*headDim]
  /** RoPE inverse frequency of each interleaved pair (2i, 2i+1) of a head [headDim/2]: how the keys were turned. */
  rope?: Float32Array;
}

export const kvShapeOf = (c: LlamaConfig): KvShape => ({
  nLayers: c.nLayers,
  nKvHeads: c.nKvHeads,
  headDim: c.headDim,
});

export const sameShape = (a: KvShape, b: KvShape): boolean =>
  a.nLayers === b.nLayers && a.nKvHeads === b.nKvHeads && a.headDim === b.headDim;

/** Floats of one of keys/values for `count` positions. */
export const kvFloats = (s: KvShape, count: number): number =>
  s.nLayers * count * s.nKvHeads * s.headDim;

/** Copies positions [start, start+count) of the session's cache out of backend memory. */
export function readKvRows(
  k: KernelBackend,
  c: LlamaConfig,
  s: SessionBuffers,
  start: number,
  count: number,
): GqaKvRows {
  const shape = kvShapeOf(c);
  const kvDim = c.nKvHeads * c.headDim;
  const keys = new Float32Array(kvFloats(shape, count));
  const values = new Float32Array(keys.length);
  for (let l = 0; l < c.nLayers; l++) {
    const rows = readKv(k, s.kv, c, l, start, count); // f32, dequantized from an int8 cache
    keys.set(rows.keys, l * count * kvDim);
    values.set(rows.values, l * count * kvDim);
  }
  return { ...shape, start, count, keys, values, rope: ropeInverseFrequencies(c) };
}

/** Writes rows into the session's cache at their positions; the shape must be the model's. */
export function writeKvRows(
  k: KernelBackend,
  c: LlamaConfig,
  s: SessionBuffers,
  rows: GqaKvRows,
): void {
  if (!sameShape(rows, kvShapeOf(c)))
    throw new RangeError("KV rows do not have this model's shape");
  if (rows.start < 0 || rows.start + rows.count > c.seqLen)
    throw new RangeError(`KV rows [${rows.start}, ${rows.start + rows.count}) outside the context`);
  const kvDim = c.nKvHeads * c.headDim;
  const n = rows.count * kvDim;
  for (let l = 0; l < c.nLayers; l++) {
    const keys = rows.keys.subarray(l * n, (l + 1) * n);
    writeKv(k, s.kv, c, l, rows.start, keys, rows.values.subarray(l * n, (l + 1) * n), s.kvStage);
  }
}

/** Positions [start, start+count) of `rows` (a copy), e.g. one block of a capture. */
export function sliceKvRows(rows: GqaKvRows, start: number, count: number): GqaKvRows {
  if (start < rows.start || start + count > rows.start + rows.count)
    throw new RangeError(`[${start}, ${start + count}) is not inside the rows`);
  const kvDim = rows.nKvHeads * rows.headDim;
  const keys = new Float32Array(rows.nLayers * count * kvDim);
  const values = new Float32Array(keys.length);
  const from = (start - rows.start) * kvDim;
  for (let l = 0; l < rows.nLayers; l++) {
    const src = l * rows.count * kvDim + from;
    keys.set(rows.keys.subarray(src, src + count * kvDim), l * count * kvDim);
    values.set(rows.values.subarray(src, src + count * kvDim), l * count * kvDim);
  }
  return {
    nLayers: rows.nLayers,
    nKvHeads: rows.nKvHeads,
    headDim: rows.headDim,
    start,
    count,
    keys,
    values,
    ...(rows.rope ? { rope: rows.rope } : {}),
  };
}
