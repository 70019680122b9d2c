// The second kind of prompt-cache entry: one block of MLA latent rows (c_kv and k_pe of every layer)
// in a latent codec (latent-payload.ts), deflated, behind the same 64-byte header as a GQA entry
// (codec.ts) with its own magic, so neither decoder ever takes the other's entry for its own:
//
//   0  "PCLA"          4  format version u8   5  latent codec u8   6  token count u16
//   8  start pos u32  12  nLayers u16        14  kvLoraRank u16   16  ropeDim u16      18  0 u16
//  20  payload bytes u32 (inflated)          24  CRC-32 of the whole entry, this field read as 0
//  28  chain hash [32]                       60  deflated bytes u32
//
// Decoding answers a damaged, truncated, foreign or misshapen entry with a miss and its reason.
// Edge code uses the async pair (CompressionStream); the origin, whose scheduler saves and restores
// blocks between steps without awaiting, passes node:zlib's synchronous deflate to the *Sync pair.
import { ENTRY_FORMAT_VERSION, HEADER_BYTES, pipeThrough, sameBytes } from './codec';
import { crc32 } from './crc32';
import { LATENT_CODEC_NAMES, latentPayloadBytes, packLatentPayload, unpackLatentPayload, type LatentCodecName } from './latent-payload';
import { sameLatentShape, type LatentRows, type LatentShape } from './latent-rows';

const MAGIC = 0x414c4350; // "PCLA" read as u32 LE
const CHECKSUM_AT = 24;

/** What the reader expects of an entry: its block's chain hash and position, and the model's latent shape. */
export interface LatentExpectation {
  chainHash: Uint8Array;
  shape: LatentShape;
  start: number;
  count: number;
}

export type LatentDecodeResult = { ok: true; rows: LatentRows<Float32Array>; codec: LatentCodecName } | { ok: false; reason: string };

/** Raw deflate (RFC 1951) both ways, synchronously; inflate refuses output past `limit` bytes. */
export interface SyncDeflate {
  deflate(bytes: Uint8Array): Uint8Array;
  inflate(bytes: Uint8Array, limit: number): Uint8Array;
}

export async function encodeLatentEntry(rows: LatentRows, codec: LatentCodecName, chainHash: Uint8Array): Promise<Uint8Array> {
  const payload = packChecked(rows, codec, chainHash);
  return frame(rows, codec, chainHash, payload.length, await pipeThrough(payload, new CompressionStream('deflate-raw')));
}

export function encodeLatentEntrySync(rows: LatentRows, codec: LatentCodecName, chainHash: Uint8Array, z: SyncDeflate): Uint8Array {
  const payload = packChecked(rows, codec, chainHash);
  return frame(rows, codec, chainHash, payload.length, z.deflate(payload));
}

/** Rows from an entry, or why it is a miss. Never throws on bad input. */
export async function decodeLatentEntry(entry: Uint8Array, expect: LatentExpectation): Promise<LatentDecodeResult> {
  const h = readHeader(entry, expect);
  if (!h.ok) return h;
  try {
    return unpack(h, await pipeThrough(entry.subarray(HEADER_BYTES), new DecompressionStream('deflate-raw'), h.size));
  } catch (err) {
    return { ok: false, reason: `deflate stream is damaged (${(err as Error).message})` };
  }
}

export function decodeLatentEntrySync(entry: Uint8Array, expect: LatentExpectation, z: SyncDeflate): LatentDecodeResult {
  const h = readHeader(entry, expect);
  if (!h.ok) return h;
  try {
    return unpack(h, z.inflate(entry.subarray(HEADER_BYTES), h.size));
  } catch (err) {
    return { ok: false, reason: `deflate stream is damaged (${(err as Error).message})` };
  }
}

function packChecked(rows: LatentRows, codec: LatentCodecName, chainHash: Uint8Array): Uint8Array {
  if (chainHash.length !== 32) throw new RangeError('a chain hash has 32 bytes');
  if (rows.count > 0xffff || rows.start > 0xffffffff) throw new RangeError('latent rows out of the header\'s range');
  return packLatentPayload(rows, codec);
}

function frame(rows: LatentRows, codec: LatentCodecName, chainHash: Uint8Array, payloadLength: number, deflated: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + deflated.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  out[4] = ENTRY_FORMAT_VERSION;
  out[5] = LATENT_CODEC_NAMES.indexOf(codec);
  view.setUint16(6, rows.count, true);
  view.setUint32(8, rows.start, true);
  view.setUint16(12, rows.nLayers, true);
  view.setUint16(14, rows.kvLoraRank, true);
  view.setUint16(16, rows.ropeDim, true);
  view.setUint32(20, payloadLength, true);
  out.set(chainHash, 28);
  view.setUint32(60, deflated.length, true);
  out.set(deflated, HEADER_BYTES);
  view.setUint32(CHECKSUM_AT, crc32(out), true);
  return out;
}

interface Header {
  ok: true;
  codec: LatentCodecName;
  shape: LatentShape;
  start: number;
  count: number;
  size: number;
}

/** Everything checkable before inflating: the CRC covers the stored bytes, so only our encoder's output is inflated. */
function readHeader(entry: Uint8Array, expect: LatentExpectation): Header | { ok: false; reason: string } {
  const miss = (reason: string) => ({ ok: false as const, reason });
  if (entry.length < HEADER_BYTES) return miss('truncated header');
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  if (view.getUint32(0, true) !== MAGIC) return miss('not a latent prompt-cache entry');
  if (entry[4] !== ENTRY_FORMAT_VERSION) return miss(`entry format ${entry[4]}, expected ${ENTRY_FORMAT_VERSION}`);
  const codec = LATENT_CODEC_NAMES[entry[5]];
  if (codec === undefined) return miss(`unknown latent codec ${entry[5]}`);
  if (!sameBytes(entry.subarray(28, 60), expect.chainHash)) return miss('chain hash differs: another prompt, tenant or model');
  const shape = { nLayers: view.getUint16(12, true), kvLoraRank: view.getUint16(14, true), ropeDim: view.getUint16(16, true) };
  const count = view.getUint16(6, true), start = view.getUint32(8, true);
  if (!sameLatentShape(shape, expect.shape) || view.getUint16(18, true) !== 0) return miss('latent shape differs from the model\'s');
  if (count !== expect.count || start !== expect.start) return miss(`holds positions [${start}, ${start + count}), expected [${expect.start}, ${expect.start + expect.count})`);
  const size = latentPayloadBytes(shape, count, codec);
  if (view.getUint32(20, true) !== size) return miss('payload size differs from its shape');
  if (view.getUint32(60, true) !== entry.length - HEADER_BYTES) return miss('truncated or padded body');
  const header = entry.slice(0, HEADER_BYTES);
  new DataView(header.buffer).setUint32(CHECKSUM_AT, 0, true);
  if (crc32(entry.subarray(HEADER_BYTES), crc32(header)) !== view.getUint32(CHECKSUM_AT, true)) return miss('checksum mismatch');
  return { ok: true, codec, shape, start, count, size };
}

function unpack(h: Header, payload: Uint8Array): LatentDecodeResult {
  if (payload.length !== h.size) return { ok: false, reason: 'inflated payload has the wrong size' };
  const { cKv, kPe } = unpackLatentPayload(h.shape, h.count, payload, h.codec);
  return { ok: true, codec: h.codec, rows: { ...h.shape, start: h.start, count: h.count, cKv, kPe } };
}
