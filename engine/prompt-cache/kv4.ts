// The kv4 codec's quantizers (KVQuant-style, arXiv 2401.18079, without its sparse outliers): about
// 4 bits per value, a quarter of f16's bytes once deflated. Layer-major rows [nLayers, count, kvDim].
//
//   keys    before RoPE: each row is turned back by -pos·invFreq[i] per interleaved pair (2i, 2i+1),
//           the layout the engine keeps every model's keys in (HF rotate-half rows are permuted to it
//           at load), so a channel keeps its offset and scale across positions; then 16 levels per
//           (layer, channel) over the block: lo = f16(min), s = the smallest f16 ≥ (max - lo)/15 with
//           round((max - lo)/s) ≤ 15. Decoding turns the rows forward again.
//   values  12 levels per (layer, token, 64 channels): lo = f16(min), s = 2^(e/8 - 20) with e (u8) the
//           smallest for which round((max - lo)/s) ≤ 11. With 2^(1/8) steps that rounding is exactly
//           11 at the chosen e, so the group's min and max survive and re-encoding is byte-identical.
//
// Keys weigh most on stories260K's logits, so they get 16 levels and f16 scales; values get 12 levels
// and a byte of scale. Quantizing the dequantized rows gives the same codes and scales; for keys this
// holds up to the f32 rounding of the turn, which moves a value by ~1e-7 of its pair's magnitude.
import { f16Table, f32ToF16 } from '../formats/f16';

export const KV4_VALUE_CHANNELS = 64;
const KEY_MAX = 15;
const VALUE_MAX = 11;
const SCALE_BIAS = 20; // s = 2^(e/8 - 20): 2^-20 … 2^11.9
/** 2^(e/8 - 20) for every exponent byte. */
const VALUE_SCALES = Float64Array.from({ length: 256 }, (_, e) => 2 ** (e / 8 - SCALE_BIAS));
const valueScale = (e: number): number => VALUE_SCALES[e] ?? Infinity;

const finite = (x: number): void => {
  if (!Number.isFinite(x))
    throw new RangeError('KV values are not finite: the block cannot be cached');
};

/** Value groups of a token row: ceil(kvDim / 64), the last may be short. */
export const kv4ValueGroups = (kvDim: number): number => Math.ceil(kvDim / KV4_VALUE_CHANNELS);

/** Keys turned by ±pos·invFreq per interleaved pair (sign -1 undoes RoPE); a copy, f64 inside. */
export function turnKeys(
  keys: Float32Array,
  count: number,
  start: number,
  nKvHeads: number,
  headDim: number,
  invFreq: Float32Array,
  sign: 1 | -1,
): Float32Array {
  const out = new Float32Array(keys.length),
    kvDim = nKvHeads * headDim;
  const cos = new Float64Array(headDim / 2),
    sin = new Float64Array(headDim / 2);
  for (let t = 0; t < count; t++) {
    for (let i = 0; i < cos.length; i++) {
      cos[i] = Math.cos((start + t) * invFreq[i]);
      sin[i] = sign * Math.sin((start + t) * invFreq[i]);
    }
    for (let row = t; row < keys.length / kvDim; row += count) {
      for (let p = row * kvDim, h = 0; h < nKvHeads; h++) {
        for (let i = 0; i < cos.length; i++, p += 2) {
          const x0 = keys[p],
            x1 = keys[p + 1];
          out[p] = x0 * cos[i] - x1 * sin[i];
          out[p + 1] = x0 * sin[i] + x1 * cos[i];
        }
      }
    }
  }
  return out;
}

/** A group's offset (f16 bits) and step (its stored form and value) for values x. */
type Choice = { lo: number; scale: number; s: number };

/**
 * Codes of one group (x is a copy; it is overwritten). lo = f16(min) rounds by up to |min|·2^-11,
 * which can leave code 0 unused when the step is finer than that; the dequantized group would then
 * choose another lo. So the group is quantized again from its dequantized self until the choice
 * holds still (one more round at most, in practice): what is stored then re-encodes to itself.
 */
function settle(
  x: Float32Array,
  maxCode: number,
  step: (range: number) => [number, number],
  codes: Uint8Array,
): Choice {
  const t16 = f16Table();
  const choose = (): Choice => {
    let min = Infinity,
      max = -Infinity;
    for (let i = 0; i < x.length; i++) {
      if (x[i] < min) min = x[i];
      if (x[i] > max) max = x[i];
      if (Number.isNaN(x[i])) max = NaN;
    }
    finite(max - min);
    const lo = f32ToF16(min);
    finite(t16[lo]);
    const [scale, s] = step(max - t16[lo]);
    return { lo, scale, s };
  };
  let c = choose();
  for (let round = 0; round < 8; round++) {
    const l = t16[c.lo],
      inv = c.s === 0 ? 0 : 1 / c.s;
    for (let i = 0; i < x.length; i++) {
      codes[i] = Math.max(0, Math.min(maxCode, Math.round((x[i] - l) * inv)));
      x[i] = l + codes[i] * c.s;
    }
    const again = choose();
    if ((again.lo === c.lo && again.scale === c.scale) || round === 7) break;
    c = again;
  }
  return c;
}

/** Key step: the smallest f16 s ≥ range/15 with round(range/s) ≤ 15. */
function keyStep(range: number): [number, number] {
  const t16 = f16Table();
  let bits = f32ToF16(Math.max(0, range) / KEY_MAX);
  while (Math.round(range / t16[bits]) > KEY_MAX) bits++;
  finite(t16[bits]);
  return [bits, t16[bits]];
}

/** Value step 2^(e/8 - 20): the smallest e with round(range/s) ≤ 11 (below the start the span is at least 12). */
function valueStep(range: number): [number, number] {
  let e =
    range > 0 ? Math.max(0, Math.floor(8 * (Math.log2(range / VALUE_MAX) + SCALE_BIAS)) - 1) : 0;
  while (Math.round(range / valueScale(e)) > VALUE_MAX) e++;
  if (e > 255) throw new RangeError(`KV magnitude ${range} is beyond the kv4 scale range`);
  return [e, valueScale(e)];
}

/** Keys (already turned back) per (layer, channel) over the block: codes 0..15, one per byte. */
export function quantizeKv4Keys(
  x: Float32Array,
  count: number,
  kvDim: number,
  codes: Uint8Array,
  lo: Uint16Array,
  scales: Uint16Array,
): void {
  const group = new Float32Array(count),
    groupCodes = new Uint8Array(count);
  for (let g = 0; g < lo.length; g++) {
    const first = Math.floor(g / kvDim) * count * kvDim + (g % kvDim);
    for (let t = 0; t < count; t++) group[t] = x[first + t * kvDim];
    const c = settle(group, KEY_MAX, keyStep, groupCodes);
    lo[g] = c.lo;
    scales[g] = c.scale;
    for (let t = 0; t < count; t++) codes[first + t * kvDim] = groupCodes[t];
  }
}

export function dequantizeKv4Keys(
  codes: Uint8Array,
  count: number,
  kvDim: number,
  lo: Uint16Array,
  scales: Uint16Array,
  out: Float32Array,
): void {
  const t16 = f16Table();
  for (let l = 0, i = 0; l < lo.length / kvDim; l++) {
    for (let t = 0; t < count; t++) {
      for (let c = 0, g = l * kvDim; c < kvDim; c++, g++, i++)
        out[i] = t16[lo[g]] + codes[i] * t16[scales[g]];
    }
  }
}

/** Values per (layer, token, 64 channels): codes 0..11, one per byte; lo f16, scale exponent u8. */
export function quantizeKv4Values(
  x: Float32Array,
  kvDim: number,
  codes: Uint8Array,
  lo: Uint16Array,
  exps: Uint8Array,
): void {
  const vg = kv4ValueGroups(kvDim);
  for (let g = 0; g < lo.length; g++) {
    const from = Math.floor(g / vg) * kvDim + (g % vg) * KV4_VALUE_CHANNELS,
      to = Math.min(from + KV4_VALUE_CHANNELS, Math.floor(g / vg) * kvDim + kvDim);
    const c = settle(x.slice(from, to), VALUE_MAX, valueStep, codes.subarray(from, to));
    lo[g] = c.lo;
    exps[g] = c.scale;
  }
}

export function dequantizeKv4Values(
  codes: Uint8Array,
  kvDim: number,
  lo: Uint16Array,
  exps: Uint8Array,
  out: Float32Array,
): void {
  const t16 = f16Table(),
    vg = kv4ValueGroups(kvDim);
  for (let row = 0, i = 0; i < out.length; row++) {
    for (let c = 0; c < kvDim; c++, i++) {
      const g = row * vg + Math.floor(c / KV4_VALUE_CHANNELS);
      out[i] = t16[lo[g]] + codes[i] * VALUE_SCALES[exps[g]];
    }
  }
}
