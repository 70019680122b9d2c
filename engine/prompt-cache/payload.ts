// The payload of a prompt-cache entry: one block's keys and values in one codec (n values each,
// n = nLayers * count * nKvHeads * headDim; multi-byte values little-endian, as typed arrays are
// on every platform we run on). Quantizers are in quantize.ts.
//
//   f32        keys f32[n], values f32[n]                                     lossless
//   f16        keys f16[n], values f16[n]                                     round to nearest even
//   int8       key codes u8[n], value codes i8[n], key lo f32[L*kvDim], key scales f16[L*kvDim],
//              value scales f16[n/headDim]       keys per channel (asymmetric), values per token-head
//   fp8        key codes, value codes (E4M3), key scales f16[n/headDim], value scales f16[n/headDim]
//   int8-head  as fp8 with symmetric int8 codes: keys and values per token-head
//   int4       key codes u4[n], value codes u4[n] (two per byte, low nibble first, each part padded
//              to an even byte count), key lo f16[L*kg*kvDim], key scales f16[L*kg*kvDim], value lo
//              f16[L*count*vg], value scales f16[L*count*vg]: asymmetric, keys per channel over
//              groups of 32 tokens (kg = ceil(count/32)), values per token over groups of 32
//              channels (vg = ceil(kvDim/32)), KIVI-style
//   kv4        RoPE inverse frequencies f32[headDim/2] (the keys' turn; zeros: none), key codes u4[n],
//              value codes u4[n] (packed as int4's), key lo f16[L*kvDim], key scales f16[L*kvDim],
//              value lo f16[L*count*vg], value scale exponents u8[L*count*vg] (vg = ceil(kvDim/64)):
//              keys before RoPE per channel over the block (16 levels), values per token over groups
//              of 64 channels (12 levels), KVQuant-style (kv4.ts)
import { kvFloats, type KvShape } from './kv-rows';
import {
  E4M3_VALUES,
  INT8_VALUES,
  dequantizeChannels,
  dequantizeGroups,
  dequantizeInt4Keys,
  dequantizeInt4Values,
  int4KeyGroups,
  int4ValueGroups,
  packNibbles,
  quantizeChannels,
  quantizeFp8Groups,
  quantizeInt4Keys,
  quantizeInt4Values,
  quantizeInt8Groups,
  unpackNibbles,
} from './quantize';
import { f16Table, f32ToF16 } from '../formats/f16';
import {
  dequantizeKv4Keys,
  dequantizeKv4Values,
  kv4ValueGroups,
  quantizeKv4Keys,
  quantizeKv4Values,
  turnKeys,
} from './kv4';

/** The header stores a codec as its index here: append only. */
export const CODEC_NAMES = ['f32', 'f16', 'int8', 'fp8', 'int8-head', 'int4', 'kv4'] as const;
export type CodecName = (typeof CODEC_NAMES)[number];

export interface KvPair {
  keys: Float32Array;
  values: Float32Array;
  /** RoPE inverse frequency per interleaved pair of a head (kv4 quantizes keys before RoPE); absent: keys taken as they are. */
  rope?: Float32Array;
}

/** Payload bytes of one block of `count` tokens. */
export function payloadBytes(shape: KvShape, count: number, codec: CodecName): number {
  const n = kvFloats(shape, count);
  const headScales = 2 * (n / shape.headDim);
  const channels = shape.nLayers * shape.nKvHeads * shape.headDim;
  if (codec === 'f32') return 8 * n;
  if (codec === 'f16') return 4 * n;
  if (codec === 'int8') return 2 * n + 6 * channels + headScales;
  if (codec === 'int4') {
    const g = int4Groups(shape, count);
    return 2 * nibbleBytes(n) + 4 * (g.keys + g.values);
  }
  if (codec === 'kv4') {
    const values = kv4Values(shape, count);
    return 2 * shape.headDim + 2 * nibbleBytes(n) + 4 * channels + 3 * values;
  }
  return 2 * n + 2 * headScales;
}

/** Bytes of n packed 4-bit codes, padded to even so the f16 parts after them stay aligned. */
const nibbleBytes = (n: number): number => 2 * Math.ceil(n / 4);

/** (lo, scale) pairs of an int4 block: keys per (layer, token group, channel), values per (layer, token, channel group). */
function int4Groups(shape: KvShape, count: number): { keys: number; values: number } {
  const kvDim = shape.nKvHeads * shape.headDim;
  return {
    keys: shape.nLayers * int4KeyGroups(count) * kvDim,
    values: shape.nLayers * count * int4ValueGroups(kvDim),
  };
}

/** Typed views of an int4 payload, in layout order. */
function int4Parts(shape: KvShape, count: number, buf: ArrayBuffer) {
  const n = kvFloats(shape, count),
    c = nibbleBytes(n),
    g = int4Groups(shape, count);
  const at = 2 * c;
  return {
    keyCodes: new Uint8Array(buf, 0, c),
    valueCodes: new Uint8Array(buf, c, c),
    keyLo: new Uint16Array(buf, at, g.keys),
    keyScales: new Uint16Array(buf, at + 2 * g.keys, g.keys),
    valueLo: new Uint16Array(buf, at + 4 * g.keys, g.values),
    valueScales: new Uint16Array(buf, at + 4 * g.keys + 2 * g.values, g.values),
  };
}

/** (lo, scale) pairs of kv4 values: per (layer, token, group of 64 channels). */
const kv4Values = (shape: KvShape, count: number): number =>
  shape.nLayers * count * kv4ValueGroups(shape.nKvHeads * shape.headDim);

/** Typed views of a kv4 payload, in layout order. */
function kv4Parts(shape: KvShape, count: number, buf: ArrayBuffer) {
  const n = kvFloats(shape, count),
    c = nibbleBytes(n),
    channels = shape.nLayers * shape.nKvHeads * shape.headDim,
    v = kv4Values(shape, count);
  const rope = 2 * shape.headDim,
    at = rope + 2 * c;
  return {
    rope: new Float32Array(buf, 0, shape.headDim / 2),
    keyCodes: new Uint8Array(buf, rope, c),
    valueCodes: new Uint8Array(buf, rope + c, c),
    keyLo: new Uint16Array(buf, at, channels),
    keyScales: new Uint16Array(buf, at + 2 * channels, channels),
    valueLo: new Uint16Array(buf, at + 4 * channels, v),
    valueExps: new Uint8Array(buf, at + 4 * channels + 2 * v, v),
  };
}

/** Typed views of each part of a payload, in layout order. */
function parts(shape: KvShape, count: number, codec: CodecName, buf: ArrayBuffer) {
  const n = kvFloats(shape, count);
  const groups = n / shape.headDim;
  const channels = shape.nLayers * shape.nKvHeads * shape.headDim;
  const keyCodes = new Uint8Array(buf, 0, n),
    valueCodes = new Uint8Array(buf, n, n);
  if (codec === 'int8') {
    const lo = new Float32Array(buf, 2 * n, channels);
    const keyScales = new Uint16Array(buf, 2 * n + 4 * channels, channels);
    return {
      keyCodes,
      valueCodes,
      lo,
      keyScales,
      valueScales: new Uint16Array(buf, 2 * n + 6 * channels, groups),
    };
  }
  return {
    keyCodes,
    valueCodes,
    lo: null,
    keyScales: new Uint16Array(buf, 2 * n, groups),
    valueScales: new Uint16Array(buf, 2 * n + 2 * groups, groups),
  };
}

/** `start`: the block's first position, which kv4 turns keys by. */
export function packPayload(
  shape: KvShape,
  count: number,
  kv: KvPair,
  codec: CodecName,
  start = 0,
): Uint8Array {
  const n = kvFloats(shape, count);
  const out = new Uint8Array(payloadBytes(shape, count, codec));
  if (codec === 'f32') {
    new Float32Array(out.buffer, 0, n).set(kv.keys);
    new Float32Array(out.buffer, 4 * n, n).set(kv.values);
    return out;
  }
  if (codec === 'f16') {
    const h = new Uint16Array(out.buffer);
    for (let i = 0; i < n; i++) h[i] = f32ToF16(kv.keys[i]);
    for (let i = 0; i < n; i++) h[n + i] = f32ToF16(kv.values[i]);
    return out;
  }
  if (codec === 'int4') {
    const p = int4Parts(shape, count, out.buffer),
      kvDim = shape.nKvHeads * shape.headDim;
    const codes = new Uint8Array(n);
    quantizeInt4Keys(kv.keys, count, kvDim, codes, p.keyLo, p.keyScales);
    packNibbles(codes, p.keyCodes);
    quantizeInt4Values(kv.values, kvDim, codes, p.valueLo, p.valueScales);
    packNibbles(codes, p.valueCodes);
    return out;
  }
  if (codec === 'kv4') {
    const p = kv4Parts(shape, count, out.buffer),
      kvDim = shape.nKvHeads * shape.headDim;
    if (kv.rope) p.rope.set(kv.rope);
    const codes = new Uint8Array(n);
    quantizeKv4Keys(
      turnKeys(kv.keys, count, start, shape.nKvHeads, shape.headDim, p.rope, -1),
      count,
      kvDim,
      codes,
      p.keyLo,
      p.keyScales,
    );
    packNibbles(codes, p.keyCodes);
    quantizeKv4Values(kv.values, kvDim, codes, p.valueLo, p.valueExps);
    packNibbles(codes, p.valueCodes);
    return out;
  }
  const p = parts(shape, count, codec, out.buffer);
  const signed = (codes: Uint8Array) => new Int8Array(codes.buffer, codes.byteOffset, codes.length);
  if (codec === 'int8')
    quantizeChannels(
      kv.keys,
      count,
      shape.nKvHeads * shape.headDim,
      p.keyCodes,
      p.lo!,
      p.keyScales,
    );
  else if (codec === 'fp8') quantizeFp8Groups(kv.keys, shape.headDim, p.keyCodes, p.keyScales);
  else quantizeInt8Groups(kv.keys, shape.headDim, signed(p.keyCodes), p.keyScales);
  if (codec === 'fp8') quantizeFp8Groups(kv.values, shape.headDim, p.valueCodes, p.valueScales);
  else quantizeInt8Groups(kv.values, shape.headDim, signed(p.valueCodes), p.valueScales);
  return out;
}

/** The inverse of packPayload; `payload` must be exactly payloadBytes long. */
export function unpackPayload(
  shape: KvShape,
  count: number,
  payload: Uint8Array,
  codec: CodecName,
  start = 0,
): KvPair {
  const n = kvFloats(shape, count);
  const buf =
    payload.byteOffset === 0 && payload.byteLength === payload.buffer.byteLength
      ? payload.buffer
      : payload.slice().buffer;
  if (codec === 'f32')
    return {
      keys: new Float32Array(buf, 0, n).slice(),
      values: new Float32Array(buf, 4 * n, n).slice(),
    };
  const keys = new Float32Array(n),
    values = new Float32Array(n);
  if (codec === 'f16') {
    const h = new Uint16Array(buf),
      t = f16Table();
    for (let i = 0; i < n; i++) keys[i] = t[h[i]];
    for (let i = 0; i < n; i++) values[i] = t[h[n + i]];
    return { keys, values };
  }
  if (codec === 'int4') {
    const p = int4Parts(shape, count, buf as ArrayBuffer),
      kvDim = shape.nKvHeads * shape.headDim;
    const codes = new Uint8Array(n);
    unpackNibbles(p.keyCodes, codes);
    dequantizeInt4Keys(codes, count, kvDim, p.keyLo, p.keyScales, keys);
    unpackNibbles(p.valueCodes, codes);
    dequantizeInt4Values(codes, kvDim, p.valueLo, p.valueScales, values);
    return { keys, values };
  }
  if (codec === 'kv4') {
    const p = kv4Parts(shape, count, buf as ArrayBuffer),
      kvDim = shape.nKvHeads * shape.headDim;
    const codes = new Uint8Array(n),
      turned = new Float32Array(n);
    unpackNibbles(p.keyCodes, codes);
    dequantizeKv4Keys(codes, count, kvDim, p.keyLo, p.keyScales, turned);
    unpackNibbles(p.valueCodes, codes);
    dequantizeKv4Values(codes, kvDim, p.valueLo, p.valueExps, values);
    const rope = p.rope.slice();
    return {
      keys: turnKeys(turned, count, start, shape.nKvHeads, shape.headDim, rope, 1),
      values,
      rope,
    };
  }
  const p = parts(shape, count, codec, buf as ArrayBuffer);
  const lut = codec === 'fp8' ? E4M3_VALUES : INT8_VALUES;
  if (codec === 'int8')
    dequantizeChannels(p.keyCodes, count, shape.nKvHeads * shape.headDim, p.lo!, p.keyScales, keys);
  else dequantizeGroups(p.keyCodes, p.keyScales, shape.headDim, lut, keys);
  dequantizeGroups(p.valueCodes, p.valueScales, shape.headDim, lut, values);
  return { keys, values };
}
