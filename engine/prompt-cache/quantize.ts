// The quantizers of the prompt-cache codecs, as plain reference loops over layer-major KV rows
// [nLayers, count, kvDim]. Scales are f16 (rounded to nearest); every quantizer is idempotent:
// quantizing what it dequantized gives the same codes and scales back, byte for byte.
//
//   per token-head, symmetric: one scale per group of headDim values (a token's head in a layer),
//     s = f16(amax / codeMax), int8 codes round(x / s) or E4M3 codes e4m3(x / s)
//   per channel, asymmetric (keys of the int8 codec): one (lo, s) per (layer, channel) over the
//     block's tokens, lo = min (f32), s = f16((max - lo) / 255), u8 codes round((x - lo) / s).
//     Keys carry per-channel offsets and outlier channels (KIVI, arXiv 2402.02750); on stories260K
//     this cuts the largest logit error of restored int8 keys from 0.31 to 0.07 at fewer bytes.
//   int4, asymmetric (KIVI's 4-bit layout): keys per (layer, channel) over groups of 32 tokens,
//     values per (layer, token) over groups of 32 channels; lo = f16(min), s = f16((max - lo) / 15),
//     codes round((x - lo) / s) in [0, 15].
import { E4M3_MAX, E4M3_VALUES, encodeE4M3 } from '../formats/fp8';
import { f16Table, f32ToF16 } from '../formats/f16';

const INT8_MAX = 127;

function finite(amax: number): void {
  if (!Number.isFinite(amax))
    throw new RangeError('KV values are not finite: the block cannot be cached');
}

/** f16 bits of a scale and its value; throws past the f16 range. */
function f16Scale(v: number): [number, number] {
  const bits = f32ToF16(v);
  const s = f16Table()[bits];
  if (!Number.isFinite(s)) throw new RangeError(`KV magnitude ${v} is beyond the f16 scale range`);
  return [bits, s];
}

/** Symmetric int8 per group of `group` values; codes clamp to ±127. */
export function quantizeInt8Groups(
  x: Float32Array,
  group: number,
  codes: Int8Array,
  scales: Uint16Array,
): void {
  for (let g = 0; g < scales.length; g++) {
    const from = g * group,
      to = from + group;
    let amax = 0;
    for (let i = from; i < to; i++) amax = Math.max(amax, Math.abs(x[i]));
    finite(amax);
    const [bits, s] = f16Scale(amax / INT8_MAX);
    scales[g] = bits;
    for (let i = from; i < to; i++)
      codes[i] = s === 0 ? 0 : Math.max(-INT8_MAX, Math.min(INT8_MAX, Math.round(x[i] / s)));
  }
}

/** E4M3 per group: codes e4m3(x / s), saturating at ±448, s = f16(amax / 448). */
export function quantizeFp8Groups(
  x: Float32Array,
  group: number,
  codes: Uint8Array,
  scales: Uint16Array,
): void {
  for (let g = 0; g < scales.length; g++) {
    const from = g * group,
      to = from + group;
    let amax = 0;
    for (let i = from; i < to; i++) amax = Math.max(amax, Math.abs(x[i]));
    finite(amax);
    const [bits, s] = f16Scale(amax / E4M3_MAX);
    scales[g] = bits;
    for (let i = from; i < to; i++) codes[i] = s === 0 ? 0 : encodeE4M3(Math.fround(x[i] / s));
  }
}

/** x = lut[code] · scale per group (lut: int8 or E4M3 values by byte). */
export function dequantizeGroups(
  codes: Uint8Array,
  scales: Uint16Array,
  group: number,
  lut: Float32Array,
  out: Float32Array,
): void {
  const t = f16Table();
  for (let g = 0; g < scales.length; g++) {
    const s = t[scales[g]];
    for (let i = g * group; i < (g + 1) * group; i++) out[i] = lut[codes[i]] * s;
  }
}

/** Value of every byte read as int8 (two's complement). */
export const INT8_VALUES = Float32Array.from({ length: 256 }, (_, b) => (b < 128 ? b : b - 256));

/**
 * Asymmetric u8 per (layer, channel) over `count` tokens of x[nLayers, count, channels]; lo and
 * scales are [nLayers, channels]. Loops run token-major, so memory is read in order.
 */
export function quantizeChannels(
  x: Float32Array,
  count: number,
  channels: number,
  codes: Uint8Array,
  lo: Float32Array,
  scales: Uint16Array,
): void {
  const nLayers = lo.length / channels;
  const max = new Float32Array(channels),
    inv = new Float64Array(channels);
  for (let l = 0; l < nLayers; l++) {
    const first = l * count * channels,
      p = l * channels;
    lo.fill(Infinity, p, p + channels);
    max.fill(-Infinity);
    for (let t = 0, i = first; t < count; t++) {
      for (let c = 0; c < channels; c++, i++) {
        if (x[i] < lo[p + c]) lo[p + c] = x[i];
        if (x[i] > max[c]) max[c] = x[i];
      }
    }
    for (let c = 0; c < channels; c++) {
      finite(max[c] - lo[p + c]);
      const [bits, s] = f16Scale((max[c] - lo[p + c]) / 255);
      scales[p + c] = bits;
      inv[c] = s === 0 ? 0 : 1 / s;
    }
    for (let t = 0, i = first; t < count; t++) {
      for (let c = 0; c < channels; c++, i++)
        codes[i] = Math.max(0, Math.min(255, Math.round((x[i] - lo[p + c]) * inv[c])));
    }
  }
}

export function dequantizeChannels(
  codes: Uint8Array,
  count: number,
  channels: number,
  lo: Float32Array,
  scales: Uint16Array,
  out: Float32Array,
): void {
  const t16 = f16Table();
  const nLayers = lo.length / channels;
  const s = new Float32Array(channels);
  for (let l = 0; l < nLayers; l++) {
    const p = l * channels;
    for (let c = 0; c < channels; c++) s[c] = t16[scales[p + c]];
    for (let t = 0, i = l * count * channels; t < count; t++) {
      for (let c = 0; c < channels; c++, i++) out[i] = lo[p + c] + codes[i] * s[c];
    }
  }
}

export { E4M3_VALUES };

/** The int4 codec's groups: keys per channel over this many tokens, values per token over this many channels. */
export const INT4_KEY_TOKENS = 32;
export const INT4_VALUE_CHANNELS = 32;

/**
 * Asymmetric 4-bit codes for `x`: the `groups(g)` indices of group g get codes round((x - lo) / s)
 * in [0, 15], lo = f16(min) and s = f16((max - lo) / 15), raised one f16 step if lo + 15s falls
 * short of max. Codes are one per byte here (packed two per byte by the payload).
 */
function quantizeInt4(
  x: Float32Array,
  count: number,
  indices: (g: number, visit: (i: number) => void) => void,
  codes: Uint8Array,
  lo: Uint16Array,
  scales: Uint16Array,
): void {
  const t = f16Table();
  for (let g = 0; g < count; g++) {
    let min = Infinity,
      max = -Infinity;
    indices(g, (i) => {
      if (Number.isNaN(x[i])) max = NaN;
      if (x[i] < min) min = x[i];
      if (x[i] > max) max = x[i];
    });
    finite(max - min);
    const [loBits, l] = f16Scale(min);
    let [bits, s] = f16Scale(Math.max(0, max - l) / 15);
    if (Math.fround(l + 15 * s) < max) [bits, s] = f16Scale(t[bits + 1] ?? Infinity);
    lo[g] = loBits;
    scales[g] = bits;
    const inv = s === 0 ? 0 : 1 / s;
    indices(g, (i) => (codes[i] = Math.max(0, Math.min(15, Math.round((x[i] - l) * inv)))));
  }
}

/** Token groups of a block of `count` tokens for int4 keys (the last may be short). */
export const int4KeyGroups = (count: number): number => Math.ceil(count / INT4_KEY_TOKENS);
/** Channel groups of a token row of `kvDim` channels for int4 values (the last may be short). */
export const int4ValueGroups = (kvDim: number): number => Math.ceil(kvDim / INT4_VALUE_CHANNELS);

/** Keys of x[nLayers, count, kvDim]: one (lo, s) per (layer, token group, channel), KIVI-style. */
export function quantizeInt4Keys(
  x: Float32Array,
  count: number,
  kvDim: number,
  codes: Uint8Array,
  lo: Uint16Array,
  scales: Uint16Array,
): void {
  const tg = int4KeyGroups(count);
  quantizeInt4(
    x,
    lo.length,
    (g, visit) => {
      const c = g % kvDim,
        group = Math.floor(g / kvDim) % tg,
        l = Math.floor(g / (kvDim * tg));
      const to = Math.min(count, (group + 1) * INT4_KEY_TOKENS);
      for (let t = group * INT4_KEY_TOKENS; t < to; t++) visit((l * count + t) * kvDim + c);
    },
    codes,
    lo,
    scales,
  );
}

/** Values of x[nLayers, count, kvDim]: one (lo, s) per (layer, token, group of channels). */
export function quantizeInt4Values(
  x: Float32Array,
  kvDim: number,
  codes: Uint8Array,
  lo: Uint16Array,
  scales: Uint16Array,
): void {
  const vg = int4ValueGroups(kvDim);
  quantizeInt4(
    x,
    lo.length,
    (g, visit) => {
      const row = Math.floor(g / vg) * kvDim,
        from = (g % vg) * INT4_VALUE_CHANNELS,
        to = Math.min(kvDim, from + INT4_VALUE_CHANNELS);
      for (let c = from; c < to; c++) visit(row + c);
    },
    codes,
    lo,
    scales,
  );
}

export function dequantizeInt4Keys(
  codes: Uint8Array,
  count: number,
  kvDim: number,
  lo: Uint16Array,
  scales: Uint16Array,
  out: Float32Array,
): void {
  const t16 = f16Table(),
    tg = int4KeyGroups(count);
  for (let i = 0; i < out.length; i++) {
    const c = i % kvDim,
      row = Math.floor(i / kvDim),
      t = row % count,
      l = Math.floor(row / count);
    const g = (l * tg + Math.floor(t / INT4_KEY_TOKENS)) * kvDim + c;
    out[i] = t16[lo[g]] + codes[i] * t16[scales[g]];
  }
}

export function dequantizeInt4Values(
  codes: Uint8Array,
  kvDim: number,
  lo: Uint16Array,
  scales: Uint16Array,
  out: Float32Array,
): void {
  const t16 = f16Table(),
    vg = int4ValueGroups(kvDim);
  for (let i = 0; i < out.length; i++) {
    const g = Math.floor(i / kvDim) * vg + Math.floor((i % kvDim) / INT4_VALUE_CHANNELS);
    out[i] = t16[lo[g]] + codes[i] * t16[scales[g]];
  }
}

/** Codes 0..15, one per byte, packed two per byte: element 2i in the low nibble, 2i+1 in the high. */
export function packNibbles(codes: Uint8Array, out: Uint8Array): void {
  for (let i = 0; i < codes.length; i += 2) out[i >> 1] = codes[i] | ((codes[i + 1] ?? 0) << 4);
}

export function unpackNibbles(packed: Uint8Array, out: Uint8Array): void {
  for (let i = 0; i < out.length; i++) out[i] = (packed[i >> 1] >> ((i & 1) << 2)) & 15;
}
