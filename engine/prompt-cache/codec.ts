// A prompt-cache entry: one block of KV rows in a codec (payload.ts), deflated with the runtime's
// CompressionStream, behind a fixed header. Decoding checks everything it can and answers a miss
// with its reason, never rows that might be wrong: a damaged, stale or foreign entry is a miss.
//
// Header, 64 bytes, little-endian:
//   0  "PCKV"          4  format version u8   5  codec u8          6  token count u16
//   8  start pos u32  12  nLayers u16        14  nKvHeads u16     16  headDim u16    18  0 u16
//  20  payload bytes u32 (inflated)          24  CRC-32 of the whole entry, this field read as 0
//  28  chain hash [32]: the block's identity (tenant, model, weights, format, every token up to it)
//  60  deflated bytes u32
// then the deflate-raw stream of the payload. The CRC covers the stored bytes (padding bits of the
// deflate stream included), so any damage is caught before inflating.
import { crc32 } from './crc32';
import { sameShape, type KvRows, type KvShape } from './kv-rows';
import { CODEC_NAMES, packPayload, payloadBytes, unpackPayload, type CodecName } from './payload';

export const ENTRY_FORMAT_VERSION = 1;
export const HEADER_BYTES = 64;
const MAGIC = 0x564b4350; // "PCKV" read as u32 LE
const CHECKSUM_AT = 24;

/** What the reader expects of an entry: its block's chain hash and position, and the model's shape. */
export interface EntryExpectation {
  chainHash: Uint8Array;
  shape: KvShape;
  start: number;
  count: number;
}

export type DecodeResult = { ok: true; rows: KvRows; codec: CodecName } | { ok: false; reason: string };

export async function encodeEntry(rows: KvRows, codec: CodecName, chainHash: Uint8Array): Promise<Uint8Array> {
  if (chainHash.length !== 32) throw new RangeError('a chain hash has 32 bytes');
  const payload = packPayload(rows, rows.count, rows, codec, rows.start);
  const deflated = await pipeThrough(payload, new CompressionStream('deflate-raw'));
  const out = new Uint8Array(HEADER_BYTES + deflated.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  out[4] = ENTRY_FORMAT_VERSION;
  out[5] = CODEC_NAMES.indexOf(codec);
  view.setUint16(6, rows.count, true);
  view.setUint32(8, rows.start, true);
  view.setUint16(12, rows.nLayers, true);
  view.setUint16(14, rows.nKvHeads, true);
  view.setUint16(16, rows.headDim, true);
  view.setUint32(20, payload.length, true);
  out.set(chainHash, 28);
  view.setUint32(60, deflated.length, true);
  out.set(deflated, HEADER_BYTES);
  view.setUint32(CHECKSUM_AT, crc32(out), true);
  return out;
}

/** Rows from an entry, or why it is a miss. Never throws on bad input. */
export async function decodeEntry(entry: Uint8Array, expect: EntryExpectation): Promise<DecodeResult> {
  const miss = (reason: string): DecodeResult => ({ ok: false, reason });
  if (entry.length < HEADER_BYTES) return miss('truncated header');
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  if (view.getUint32(0, true) !== MAGIC) return miss('not a prompt-cache entry');
  if (entry[4] !== ENTRY_FORMAT_VERSION) return miss(`entry format ${entry[4]}, expected ${ENTRY_FORMAT_VERSION}`);
  const codec = CODEC_NAMES[entry[5]];
  if (codec === undefined) return miss(`unknown codec ${entry[5]}`);
  if (!sameBytes(entry.subarray(28, 60), expect.chainHash)) return miss('chain hash differs: another prompt, tenant or model');
  const shape = { nLayers: view.getUint16(12, true), nKvHeads: view.getUint16(14, true), headDim: view.getUint16(16, true) };
  const count = view.getUint16(6, true), start = view.getUint32(8, true);
  if (!sameShape(shape, expect.shape)) return miss('KV shape differs from the model\'s');
  if (count !== expect.count || start !== expect.start) return miss(`holds positions [${start}, ${start + count}), expected [${expect.start}, ${expect.start + expect.count})`);
  const size = payloadBytes(shape, count, codec);
  if (view.getUint32(20, true) !== size) return miss('payload size differs from its shape');
  if (view.getUint32(60, true) !== entry.length - HEADER_BYTES) return miss('truncated or padded body');
  const header = entry.slice(0, HEADER_BYTES);
  new DataView(header.buffer).setUint32(CHECKSUM_AT, 0, true);
  if (crc32(entry.subarray(HEADER_BYTES), crc32(header)) !== view.getUint32(CHECKSUM_AT, true)) return miss('checksum mismatch');

  let payload: Uint8Array;
  try {
    payload = await pipeThrough(entry.subarray(HEADER_BYTES), new DecompressionStream('deflate-raw'), size);
  } catch (err) {
    return miss(`deflate stream is damaged (${(err as Error).message})`);
  }
  if (payload.length !== size) return miss('inflated payload has the wrong size');
  const { keys, values, rope } = unpackPayload(shape, count, payload, codec, start);
  return { ok: true, codec, rows: { ...shape, start, count, keys, values, ...(rope ? { rope } : {}) } };
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Runs bytes through a (de)compression stream. Decoding checks the CRC first, so only what our
 * encoder wrote is ever inflated; `limit` still refuses more output than the header promised.
 */
export async function pipeThrough(bytes: Uint8Array, transform: TransformStream<BufferSource, Uint8Array>, limit = Infinity): Promise<Uint8Array> {
  const out = new Uint8Array(await new Response(new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(transform)).arrayBuffer());
  if (out.length > limit) throw new Error(`inflates past ${limit} bytes`);
  return out;
}
