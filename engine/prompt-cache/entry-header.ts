// The 64-byte header every prompt-cache entry carries (GQA K/V entries, codec.ts; MLA latent
// entries, latent-entry.ts), little-endian:
//   0  magic u32 ("PCKV" / "PCLA")  4  format version u8  5  codec u8  6  token count u16
//   8  start pos u32  12  shape: three u16 (nLayers, then nKvHeads, headDim / kvLoraRank, ropeDim)  18  0 u16
//  20  payload bytes u32 (inflated)  24  CRC-32 of the whole entry, this field read as 0
//  28  chain hash [32]: the block's identity (tenant, model, weights, format, every token up to it)
//  60  deflated bytes u32
// then the deflate-raw stream of the payload. The CRC covers the stored bytes (padding bits of the
// deflate stream included), so any damage is caught before inflating.
import { crc32 } from './crc32';

export const ENTRY_FORMAT_VERSION = 1;
export const HEADER_BYTES = 64;
const CHECKSUM_AT = 24;

export type Dims = [number, number, number];

/** One kind of entry: its magic and how its reader names and checks what the header holds. */
export interface EntryKind<C extends string> {
  magic: number;
  /** 'prompt-cache entry', 'latent prompt-cache entry' (for the miss reasons). */
  name: string;
  codecs: readonly C[];
  codecWord: string;
  shapeWord: string;
  expectedDims: Dims;
  payloadBytes(dims: Dims, count: number, codec: C): number;
}

export interface EntryHeader<C> {
  ok: true;
  codec: C;
  dims: Dims;
  start: number;
  count: number;
  /** Inflated payload bytes. */
  size: number;
}

export type Miss = { ok: false; reason: string };

/** Header + deflated payload, the CRC filled in last. */
export function frameEntry(
  magic: number,
  codec: number,
  dims: Dims,
  start: number,
  count: number,
  payloadLength: number,
  chainHash: Uint8Array,
  deflated: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + deflated.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, true);
  out[4] = ENTRY_FORMAT_VERSION;
  out[5] = codec;
  view.setUint16(6, count, true);
  view.setUint32(8, start, true);
  dims.forEach((d, i) => view.setUint16(12 + 2 * i, d, true));
  view.setUint32(20, payloadLength, true);
  out.set(chainHash, 28);
  view.setUint32(60, deflated.length, true);
  out.set(deflated, HEADER_BYTES);
  view.setUint32(CHECKSUM_AT, crc32(out), true);
  return out;
}

/** Everything checkable before inflating, or why the entry is a miss. Never throws on bad input. */
export function readEntryHeader<C extends string>(
  entry: Uint8Array,
  kind: EntryKind<C>,
  expect: { chainHash: Uint8Array; start: number; count: number },
): EntryHeader<C> | Miss {
  const miss = (reason: string): Miss => ({ ok: false, reason });
  if (entry.length < HEADER_BYTES) return miss('truncated header');
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  if (view.getUint32(0, true) !== kind.magic) return miss(`not a ${kind.name}`);
  if (entry[4] !== ENTRY_FORMAT_VERSION)
    return miss(`entry format ${entry[4]}, expected ${ENTRY_FORMAT_VERSION}`);
  const codec = kind.codecs[entry[5]];
  if (codec === undefined) return miss(`unknown ${kind.codecWord} ${entry[5]}`);
  if (!sameBytes(entry.subarray(28, 60), expect.chainHash))
    return miss('chain hash differs: another prompt, tenant or model');
  const dims: Dims = [view.getUint16(12, true), view.getUint16(14, true), view.getUint16(16, true)];
  if (dims.some((d, i) => d !== kind.expectedDims[i]) || view.getUint16(18, true) !== 0)
    return miss(`${kind.shapeWord} differs from the model's`);
  const count = view.getUint16(6, true),
    start = view.getUint32(8, true);
  if (count !== expect.count || start !== expect.start)
    return miss(
      `holds positions [${start}, ${start + count}), expected [${expect.start}, ${expect.start + expect.count})`,
    );
  const size = kind.payloadBytes(dims, count, codec);
  if (view.getUint32(20, true) !== size) return miss('payload size differs from its shape');
  if (view.getUint32(60, true) !== entry.length - HEADER_BYTES)
    return miss('truncated or padded body');
  const header = entry.slice(0, HEADER_BYTES);
  new DataView(header.buffer).setUint32(CHECKSUM_AT, 0, true);
  if (crc32(entry.subarray(HEADER_BYTES), crc32(header)) !== view.getUint32(CHECKSUM_AT, true))
    return miss('checksum mismatch');
  return { ok: true, codec, dims, start, count, size };
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
