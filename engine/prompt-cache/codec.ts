// A prompt-cache entry: one block of KV rows in a codec (payload.ts), deflated with the runtime's
// CompressionStream, behind a fixed header. Decoding checks everything it can and answers a miss
// with its reason, never rows that might be wrong: a damaged, stale or foreign entry is a miss.
//
// The header (entry-header.ts) is shared with the MLA latent entries, magic "PCKV"; its shape
// fields hold nLayers, nKvHeads, headDim.
import {
  HEADER_BYTES,
  frameEntry,
  readEntryHeader,
  type Dims,
  type EntryKind,
} from './entry-header';
import type { GqaKvRows, KvShape } from './kv-rows';
import { CODEC_NAMES, packPayload, payloadBytes, unpackPayload, type CodecName } from './payload';

export { ENTRY_FORMAT_VERSION, HEADER_BYTES, sameBytes } from './entry-header';
const MAGIC = 0x564b4350; // "PCKV" read as u32 LE
const dimsOf = (s: KvShape): Dims => [s.nLayers, s.nKvHeads, s.headDim];
const shapeOf = ([nLayers, nKvHeads, headDim]: Dims): KvShape => ({ nLayers, nKvHeads, headDim });
const kind = (expected: KvShape): EntryKind<CodecName> => ({
  magic: MAGIC,
  name: 'prompt-cache entry',
  codecs: CODEC_NAMES,
  codecWord: 'codec',
  shapeWord: 'KV shape',
  expectedDims: dimsOf(expected),
  payloadBytes: (dims, count, codec) => payloadBytes(shapeOf(dims), count, codec),
});

/** What the reader expects of an entry: its block's chain hash and position, and the model's shape. */
export interface EntryExpectation {
  chainHash: Uint8Array;
  shape: KvShape;
  start: number;
  count: number;
}

export type DecodeResult =
  { ok: true; rows: GqaKvRows; codec: CodecName } | { ok: false; reason: string };

export async function encodeEntry(
  rows: GqaKvRows,
  codec: CodecName,
  chainHash: Uint8Array,
): Promise<Uint8Array> {
  if (chainHash.length !== 32) throw new RangeError('a chain hash has 32 bytes');
  const payload = packPayload(rows, rows.count, rows, codec, rows.start);
  const deflated = await pipeThrough(payload, new CompressionStream('deflate-raw'));
  return frameEntry(
    MAGIC,
    CODEC_NAMES.indexOf(codec),
    dimsOf(rows),
    rows.start,
    rows.count,
    payload.length,
    chainHash,
    deflated,
  );
}

/** Rows from an entry, or why it is a miss. Never throws on bad input. */
export async function decodeEntry(
  entry: Uint8Array,
  expect: EntryExpectation,
): Promise<DecodeResult> {
  const h = readEntryHeader(entry, kind(expect.shape), expect);
  if (!h.ok) return h;
  const { codec, start, count, size } = h;
  const shape = shapeOf(h.dims);
  let payload: Uint8Array;
  try {
    payload = await pipeThrough(
      entry.subarray(HEADER_BYTES),
      new DecompressionStream('deflate-raw'),
      size,
    );
  } catch (err) {
    return { ok: false, reason: `deflate stream is damaged (${(err as Error).message})` };
  }
  if (payload.length !== size) return { ok: false, reason: 'inflated payload has the wrong size' };
  const { keys, values, rope } = unpackPayload(shape, count, payload, codec, start);
  return {
    ok: true,
    codec,
    rows: { ...shape, start, count, keys, values, ...(rope ? { rope } : {}) },
  };
}

/**
 * Runs bytes through a (de)compression stream. Decoding checks the CRC first, so only what our
 * encoder wrote is ever inflated; `limit` still refuses more output than the header promised.
 */
export async function pipeThrough(
  bytes: Uint8Array,
  transform: TransformStream<BufferSource, Uint8Array>,
  limit = Infinity,
): Promise<Uint8Array> {
  const out = new Uint8Array(
    await new Response(
      new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(transform),
    ).arrayBuffer(),
  );
  if (out.length > limit) throw new Error(`inflates past ${limit} bytes`);
  return out;
}
