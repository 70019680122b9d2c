// The second kind of prompt-cache entry: one block of MLA latent rows (c_kv and k_pe of every layer)
// in a latent codec (latent-payload.ts), deflated, behind the same 64-byte header as a GQA entry
// (entry-header.ts) with its own magic, "PCLA", so neither decoder ever takes the other's entry for
// its own; the shape fields hold nLayers, kvLoraRank, ropeDim.
//
// Decoding answers a damaged, truncated, foreign or misshapen entry with a miss and its reason.
// Edge code uses the async pair (CompressionStream); the origin, whose scheduler saves and restores
// blocks between steps without awaiting, passes node:zlib's synchronous deflate to the *Sync pair.
import { pipeThrough } from './codec';
import {
  HEADER_BYTES,
  frameEntry,
  readEntryHeader,
  type Dims,
  type EntryHeader,
  type EntryKind,
} from './entry-header';
import {
  LATENT_CODEC_NAMES,
  latentPayloadBytes,
  packLatentPayload,
  unpackLatentPayload,
  type LatentCodecName,
} from './latent-payload';
import type { LatentRows, LatentShape } from './latent-rows';

const MAGIC = 0x414c4350; // "PCLA" read as u32 LE
const dimsOf = (s: LatentShape): Dims => [s.nLayers, s.kvLoraRank, s.ropeDim];
const shapeOf = ([nLayers, kvLoraRank, ropeDim]: Dims): LatentShape => ({
  nLayers,
  kvLoraRank,
  ropeDim,
});
const kind = (expected: LatentShape): EntryKind<LatentCodecName> => ({
  magic: MAGIC,
  name: 'latent prompt-cache entry',
  codecs: LATENT_CODEC_NAMES,
  codecWord: 'latent codec',
  shapeWord: 'latent shape',
  expectedDims: dimsOf(expected),
  payloadBytes: (dims, count, codec) => latentPayloadBytes(shapeOf(dims), count, codec),
});

/** What the reader expects of an entry: its block's chain hash and position, and the model's latent shape. */
export interface LatentExpectation {
  chainHash: Uint8Array;
  shape: LatentShape;
  start: number;
  count: number;
}

export type LatentDecodeResult =
  | { ok: true; rows: LatentRows<Float32Array>; codec: LatentCodecName }
  | { ok: false; reason: string };

/** Raw deflate (RFC 1951) both ways, synchronously; inflate refuses output past `limit` bytes. */
export interface SyncDeflate {
  deflate(bytes: Uint8Array): Uint8Array;
  inflate(bytes: Uint8Array, limit: number): Uint8Array;
  /** Inflates into `out`, filling it exactly, or throws: no new memory for the output. */
  inflateInto?(bytes: Uint8Array, out: Uint8Array): void;
}

export async function encodeLatentEntry(
  rows: LatentRows,
  codec: LatentCodecName,
  chainHash: Uint8Array,
): Promise<Uint8Array> {
  const payload = packChecked(rows, codec, chainHash);
  return frame(
    rows,
    codec,
    chainHash,
    payload.length,
    await pipeThrough(payload, new CompressionStream('deflate-raw')),
  );
}

export function encodeLatentEntrySync(
  rows: LatentRows,
  codec: LatentCodecName,
  chainHash: Uint8Array,
  z: SyncDeflate,
): Uint8Array {
  const payload = packChecked(rows, codec, chainHash);
  return frame(rows, codec, chainHash, payload.length, z.deflate(payload));
}

/** Rows from an entry, or why it is a miss. Never throws on bad input. */
export async function decodeLatentEntry(
  entry: Uint8Array,
  expect: LatentExpectation,
): Promise<LatentDecodeResult> {
  const h = readHeader(entry, expect);
  if (!h.ok) return h;
  try {
    return unpack(
      h,
      await pipeThrough(
        entry.subarray(HEADER_BYTES),
        new DecompressionStream('deflate-raw'),
        h.size,
      ),
    );
  } catch (err) {
    return { ok: false, reason: `deflate stream is damaged (${(err as Error).message})` };
  }
}

/**
 * `into` (4-byte aligned, at least the payload's size): the payload is inflated there rather than into new
 * memory, and f32 rows are views of it. A decode origin reads a handed-over prompt's blocks into one
 * buffer it reuses (origin/server/handoff-pull.ts), so a hand-off leaves its collector nothing to reclaim.
 */
export function decodeLatentEntrySync(
  entry: Uint8Array,
  expect: LatentExpectation,
  z: SyncDeflate,
  into?: Uint8Array,
): LatentDecodeResult {
  const h = readHeader(entry, expect);
  if (!h.ok) return h;
  if (into && !z.inflateInto)
    throw new TypeError('decoding into given memory takes a SyncDeflate with inflateInto');
  if (into && into.length < h.size) throw new RangeError('the target is smaller than the payload');
  try {
    const deflated = entry.subarray(HEADER_BYTES);
    if (!into) return unpack(h, z.inflate(deflated, h.size));
    const out = into.subarray(0, h.size);
    z.inflateInto!(deflated, out);
    return unpack(h, out);
  } catch (err) {
    return { ok: false, reason: `deflate stream is damaged (${(err as Error).message})` };
  }
}

function packChecked(rows: LatentRows, codec: LatentCodecName, chainHash: Uint8Array): Uint8Array {
  if (chainHash.length !== 32) throw new RangeError('a chain hash has 32 bytes');
  if (rows.count > 0xffff || rows.start > 0xffffffff)
    throw new RangeError("latent rows out of the header's range");
  return packLatentPayload(rows, codec);
}

function frame(
  rows: LatentRows,
  codec: LatentCodecName,
  chainHash: Uint8Array,
  payloadLength: number,
  deflated: Uint8Array,
): Uint8Array {
  return frameEntry(
    MAGIC,
    LATENT_CODEC_NAMES.indexOf(codec),
    dimsOf(rows),
    rows.start,
    rows.count,
    payloadLength,
    chainHash,
    deflated,
  );
}

function readHeader(entry: Uint8Array, expect: LatentExpectation) {
  return readEntryHeader(entry, kind(expect.shape), expect);
}

function unpack(h: EntryHeader<LatentCodecName>, payload: Uint8Array): LatentDecodeResult {
  if (payload.length !== h.size)
    return { ok: false, reason: 'inflated payload has the wrong size' };
  const shape = shapeOf(h.dims);
  const { cKv, kPe } = unpackLatentPayload(shape, h.count, payload, h.codec);
  return { ok: true, codec: h.codec, rows: { ...shape, start: h.start, count: h.count, cKv, kPe } };
}
