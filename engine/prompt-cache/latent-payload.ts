// The payload of a latent (MLA) prompt-cache entry: one block's c_kv and k_pe in one codec. With
// nKv = nLayers·count·kvLoraRank and nPe = nLayers·count·ropeDim values and r = nLayers·count rows:
//
//   f32   cKv f32[nKv], kPe f32[nPe]                                         lossless for f32 rows
//   f16   cKv f16[nKv], kPe f16[nPe]                                         round to nearest even
//   int8  cKv scales f32[r], kPe scales f32[r], cKv codes i8[nKv], kPe codes i8[nPe]
//   fp8   as int8, with E4M3 codes
//
// int8 and fp8 are symmetric, one scale per (layer, position) and stream: amax / 127 or amax / 448.
// c_kv (RMS-normed) and k_pe (a raw projection) differ in magnitude, so each row has its own scale.
// k_pe is quantized after RoPE, as it is stored: RoPE turns pairs within a position, and a scale of
// the whole position does not mind. Scales are f32, as DeepSeek-V3's FP8 scales are (an f16 scale
// loses precision on rows below ~1e-2 and cannot hold rows above ~8e6); they cost 8 bytes per
// (layer, position), 1.4 % of DeepSeek-V3's 576 int8 bytes. They come first, so they stay aligned.
import { E4M3_MAX, E4M3_VALUES, encodeE4M3 } from '../formats/fp8';
import { f16Table, f32ToF16 } from '../formats/f16';
import {
  latentRowCount,
  type LatentFloats,
  type LatentRows,
  type LatentShape,
} from './latent-rows';
import { INT8_VALUES } from './quantize';

/** The header stores a latent codec as its index here: append only (its own list: GQA's int8 means another layout). */
export const LATENT_CODEC_NAMES = ['f32', 'f16', 'int8', 'fp8'] as const;
export type LatentCodecName = (typeof LATENT_CODEC_NAMES)[number];

const sizes = (s: LatentShape, count: number) => {
  const rows = latentRowCount(s, count);
  return { rows, kv: rows * s.kvLoraRank, pe: rows * s.ropeDim };
};

/** Payload bytes of `count` positions. */
export function latentPayloadBytes(
  shape: LatentShape,
  count: number,
  codec: LatentCodecName,
): number {
  const n = sizes(shape, count);
  if (codec === 'f32') return 4 * (n.kv + n.pe);
  if (codec === 'f16') return 2 * (n.kv + n.pe);
  return 8 * n.rows + n.kv + n.pe;
}

/** A quantized codec: its largest code value, value → code, and code → value by byte. */
interface RowQuantizer {
  codeMax: number;
  encode(v: number): number;
  values: Float32Array;
}

const QUANTIZED: Record<'int8' | 'fp8', RowQuantizer> = {
  int8: {
    codeMax: 127,
    encode: (v: number) => Math.max(-127, Math.min(127, Math.round(v))) & 0xff,
    values: INT8_VALUES,
  },
  fp8: { codeMax: E4M3_MAX, encode: encodeE4M3, values: E4M3_VALUES },
};

export function packLatentPayload(rows: LatentRows, codec: LatentCodecName): Uint8Array {
  const n = sizes(rows, rows.count);
  if (rows.cKv.length !== n.kv || rows.kPe.length !== n.pe)
    throw new RangeError('latent rows do not match their shape');
  const out = new Uint8Array(latentPayloadBytes(rows, rows.count, codec));
  if (codec === 'f32') {
    new Float32Array(out.buffer, 0, n.kv).set(rows.cKv);
    new Float32Array(out.buffer, 4 * n.kv, n.pe).set(rows.kPe);
  } else if (codec === 'f16') {
    const h = new Uint16Array(out.buffer);
    for (let i = 0; i < n.kv; i++) h[i] = f32ToF16(rows.cKv[i]);
    for (let i = 0; i < n.pe; i++) h[n.kv + i] = f32ToF16(rows.kPe[i]);
  } else {
    const p = quantizedParts(n, out.buffer),
      q = QUANTIZED[codec];
    quantizeRows(rows.cKv, rows.kvLoraRank, q, p.kvCodes, p.kvScales);
    quantizeRows(rows.kPe, rows.ropeDim, q, p.peCodes, p.peScales);
  }
  return out;
}

/**
 * The inverse of packLatentPayload; `payload` must be exactly latentPayloadBytes long, and the caller
 * gives it up (latent-entry.ts passes bytes it has just inflated): f32 rows are views of it where it is
 * 4-byte aligned, so a hand-off's ~1 MB of rows per 1K tokens is not copied once more.
 */
export function unpackLatentPayload(
  shape: LatentShape,
  count: number,
  payload: Uint8Array,
  codec: LatentCodecName,
): { cKv: Float32Array; kPe: Float32Array } {
  const n = sizes(shape, count);
  if (codec === 'f32') {
    const p = payload.byteOffset % 4 === 0 ? payload : payload.slice();
    return {
      cKv: new Float32Array(p.buffer, p.byteOffset, n.kv),
      kPe: new Float32Array(p.buffer, p.byteOffset + 4 * n.kv, n.pe),
    };
  }
  const buf = payload.slice().buffer; // aligned
  const cKv = new Float32Array(n.kv),
    kPe = new Float32Array(n.pe);
  if (codec === 'f16') {
    const h = new Uint16Array(buf),
      t = f16Table();
    for (let i = 0; i < n.kv; i++) cKv[i] = t[h[i]];
    for (let i = 0; i < n.pe; i++) kPe[i] = t[h[n.kv + i]];
  } else {
    const p = quantizedParts(n, buf),
      lut = QUANTIZED[codec].values;
    dequantizeRows(p.kvCodes, p.kvScales, shape.kvLoraRank, lut, cKv);
    dequantizeRows(p.peCodes, p.peScales, shape.ropeDim, lut, kPe);
  }
  return { cKv, kPe };
}

function quantizedParts(n: { rows: number; kv: number; pe: number }, buf: ArrayBufferLike) {
  const codes = 8 * n.rows;
  return {
    kvScales: new Float32Array(buf, 0, n.rows),
    peScales: new Float32Array(buf, 4 * n.rows, n.rows),
    kvCodes: new Uint8Array(buf, codes, n.kv),
    peCodes: new Uint8Array(buf, codes + n.kv, n.pe),
  };
}

/**
 * Symmetric codes per row of `width` values: s = amax / codeMax in f32, code = encode(x / s). Decoding
 * gives f32(value(code) · s), whose amax is f32(codeMax · s); s is raised an ulp at a time until that
 * amax gives back s, so re-encoding decoded rows writes the same bytes.
 */
function quantizeRows(
  x: LatentFloats,
  width: number,
  q: RowQuantizer,
  codes: Uint8Array,
  scales: Float32Array,
): void {
  for (let r = 0; r < scales.length; r++) {
    const from = r * width,
      to = from + width;
    let amax = 0;
    for (let i = from; i < to; i++) amax = Math.max(amax, Math.abs(x[i]));
    if (!Number.isFinite(amax))
      throw new RangeError('latent values are not finite: the block cannot be cached');
    let s = Math.fround(amax / q.codeMax);
    while (Math.fround(Math.fround(q.codeMax * s) / q.codeMax) !== s) s = nextUpF32(s);
    scales[r] = s;
    for (let i = from; i < to; i++) codes[i] = s === 0 ? 0 : q.encode(x[i] / s);
  }
}

function dequantizeRows(
  codes: Uint8Array,
  scales: Float32Array,
  width: number,
  lut: Float32Array,
  out: Float32Array,
): void {
  for (let r = 0; r < scales.length; r++) {
    const s = scales[r];
    for (let i = r * width; i < (r + 1) * width; i++) out[i] = lut[codes[i]] * s;
  }
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** The next f32 above a finite s >= 0. */
function nextUpF32(s: number): number {
  scratch[0] = s;
  scratchBits[0]++;
  return scratch[0];
}
