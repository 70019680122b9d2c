// A session's KV cache, f32 or int8. f32: [nLayers, seqLen, kvDim] floats per K and V, the projections
// write straight into it. int8 (kernels-wasm Kv8Ops): the same layout in bytes plus one f32 scale per
// position and kv head, a quarter of the bytes (6.4 KiB per position instead of 24 for a 12-layer,
// 256-wide-kv model), so contexts of 2048 fit in an edge isolate's 128 MB; the projections write f32
// rows into staging, RoPE turns them there, and commitKv quantizes them into the cache.
import type { KernelBackend } from '../../kernels-wasm/types';
import type { LlamaConfig } from './config';

export type KvFormat = 'f32' | 'int8';

export interface KvCache {
  format: KvFormat;
  /** f32: floats; int8: codes. [nLayers, seqLen, kvDim] */
  keys: number;
  values: number;
  /** int8: [nLayers, seqLen, nKvHeads] f32 scales (0 for f32). */
  keyScales: number;
  valueScales: number;
}

const F32 = 4;
const kvDimOf = (c: LlamaConfig) => c.nKvHeads * c.headDim;

/**
 * Contexts longer than this get an int8 cache by default. Up to it the f32 cache is small and keeps
 * results bit-exact: int8 keys (per token and head) change greedy tokens of the stories260K goldens
 * after some dozens of steps, so short contexts (the goldens, llama2.c's 256-1024) stay f32.
 */
export const INT8_KV_ABOVE = 1024;

/** The format a model uses unless told: int8 for long contexts where the backend has the kernels. */
export const defaultKvFormat = (k: KernelBackend, c: LlamaConfig): KvFormat =>
  k.kv8 && c.seqLen > INT8_KV_ABOVE && c.headDim <= KV8_MAX_HEAD_DIM ? 'int8' : 'f32';

/** attention_kv8's integer dots stay in i32 up to this head size. */
const KV8_MAX_HEAD_DIM = 512;

/** Bytes of K and V per position, all layers. */
export function kvBytesPerPosition(c: LlamaConfig, format: KvFormat): number {
  const perLayer = format === 'f32' ? 2 * kvDimOf(c) * F32 : 2 * (kvDimOf(c) + c.nKvHeads * F32);
  return c.nLayers * perLayer;
}

export function allocKvCache(k: KernelBackend, c: LlamaConfig, format: KvFormat): KvCache {
  const n = c.nLayers * c.seqLen * kvDimOf(c);
  if (format === 'f32')
    return { format, keys: k.alloc(n), values: k.alloc(n), keyScales: 0, valueScales: 0 };
  if (!k.kv8) throw new Error('an int8 KV cache needs the kv8 kernels (kernels-wasm)');
  if (c.headDim > KV8_MAX_HEAD_DIM)
    throw new RangeError(
      `an int8 KV cache takes heads of at most ${KV8_MAX_HEAD_DIM}, not ${c.headDim}`,
    );
  const scales = c.nLayers * c.seqLen * c.nKvHeads;
  return {
    format,
    keys: k.alloc(Math.ceil(n / 4)),
    values: k.alloc(Math.ceil(n / 4)),
    keyScales: k.alloc(scales),
    valueScales: k.alloc(scales),
  };
}

/** Where the projections write the f32 K/V rows of positions [pos, ..) of layer l: the cache, or staging. */
export function kvTargets(
  cache: KvCache,
  c: LlamaConfig,
  l: number,
  pos: number,
  staging: { k: number; v: number },
): { k: number; v: number } {
  if (cache.format !== 'f32') return staging;
  const at = (l * c.seqLen + pos) * kvDimOf(c) * F32;
  return { k: cache.keys + at, v: cache.values + at };
}

/** After RoPE: rows [pos, pos + n) of layer l into the cache (int8: quantized from staging; f32: already there). */
export function commitKv(
  k: KernelBackend,
  cache: KvCache,
  c: LlamaConfig,
  l: number,
  pos: number,
  n: number,
  staging: { k: number; v: number },
): void {
  if (cache.format === 'f32') return;
  const row = l * c.seqLen + pos;
  const codes = row * kvDimOf(c),
    scales = row * c.nKvHeads * F32;
  const groups = n * c.nKvHeads;
  k.kv8!.quantizeKv8(cache.keys + codes, cache.keyScales + scales, staging.k, groups, c.headDim);
  k.kv8!.quantizeKv8(
    cache.values + codes,
    cache.valueScales + scales,
    staging.v,
    groups,
    c.headDim,
  );
}

/** Attention of one query over positions [0, nPos) of layer l. */
export function attendKv(
  k: KernelBackend,
  cache: KvCache,
  c: LlamaConfig,
  l: number,
  out: number,
  q: number,
  att: number,
  nPos: number,
): void {
  const { nHeads, nKvHeads, headDim } = c;
  const row = l * c.seqLen;
  if (cache.format === 'f32') {
    const at = row * kvDimOf(c) * F32;
    k.attention(out, q, cache.keys + at, cache.values + at, att, nHeads, nKvHeads, headDim, nPos);
    return;
  }
  const codes = row * kvDimOf(c),
    scales = row * nKvHeads * F32;
  k.kv8!.attentionKv8(
    out,
    q,
    cache.keys + codes,
    cache.keyScales + scales,
    cache.values + codes,
    cache.valueScales + scales,
    att,
    nHeads,
    nKvHeads,
    headDim,
    nPos,
  );
}

/** Positions [start, start + count) of layer l as f32 (dequantized from int8). */
export function readKv(
  k: KernelBackend,
  cache: KvCache,
  c: LlamaConfig,
  l: number,
  start: number,
  count: number,
): { keys: Float32Array; values: Float32Array } {
  const kvDim = kvDimOf(c),
    row = l * c.seqLen + start,
    n = count * kvDim;
  if (cache.format === 'f32') {
    const at = row * kvDim * F32;
    return { keys: k.f32(cache.keys + at, n).slice(), values: k.f32(cache.values + at, n).slice() };
  }
  const deq = (codes: number, scales: number) => {
    const q = new Int8Array(k.bytes!(codes + row * kvDim, n).slice().buffer);
    const s = k.f32(scales + row * c.nKvHeads * F32, count * c.nKvHeads);
    return Float32Array.from(q, (v, i) => v * s[Math.floor(i / c.headDim)]);
  };
  return { keys: deq(cache.keys, cache.keyScales), values: deq(cache.values, cache.valueScales) };
}

/** Writes f32 rows into positions [start, ..) of layer l (int8: quantized through `staging`, rows × kvDim floats each). */
export function writeKv(
  k: KernelBackend,
  cache: KvCache,
  c: LlamaConfig,
  l: number,
  start: number,
  keys: Float32Array,
  values: Float32Array,
  staging: { k: number; v: number; rows: number },
): void {
  const kvDim = kvDimOf(c);
  const count = keys.length / kvDim;
  if (cache.format === 'f32') {
    const at = (l * c.seqLen + start) * kvDim * F32;
    k.write(cache.keys + at, keys);
    k.write(cache.values + at, values);
    return;
  }
  for (let t = 0; t < count; t += staging.rows) {
    const n = Math.min(staging.rows, count - t);
    k.write(staging.k, keys.subarray(t * kvDim, (t + n) * kvDim));
    k.write(staging.v, values.subarray(t * kvDim, (t + n) * kvDim));
    commitKv(k, cache, c, l, start + t, n, staging);
  }
}
