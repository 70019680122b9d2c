// The prompt cache's engine side: blocks and chain hashes, the entry codec, KV rows in and out of a
// session, and MLA latent rows (c_kv, k_pe) as a second entry kind (latent-*.ts). The Worker side
// (KV lookup, write-behind) is dispatch/prompt-cache.ts.
export {
  BLOCK_TOKENS,
  CACHE_FORMAT,
  cacheEntryKey,
  cacheableBlocks,
  chainHashes,
  keyPrefix,
  restoredTokens,
  toHex,
  weightsDigest,
  type ChainSeed,
} from './blocks';
export {
  ENTRY_FORMAT_VERSION,
  HEADER_BYTES,
  decodeEntry,
  encodeEntry,
  type DecodeResult,
  type EntryExpectation,
} from './codec';
export {
  CODEC_NAMES,
  packPayload,
  payloadBytes,
  unpackPayload,
  type CodecName,
  type KvPair,
} from './payload';
export {
  kvFloats,
  kvShapeOf,
  readKvRows,
  sameShape,
  sliceKvRows,
  writeKvRows,
  type GqaKvRows,
  type KvShape,
} from './kv-rows';
export { fromBase64, toBase64 } from './base64';
export { f16ToF32, f32ToF16 } from '../formats/f16';
export { crc32 } from './crc32';
export {
  decodeLatentEntry,
  decodeLatentEntrySync,
  encodeLatentEntry,
  encodeLatentEntrySync,
  type LatentDecodeResult,
  type LatentExpectation,
  type SyncDeflate,
} from './latent-entry';
export {
  LATENT_CODEC_NAMES,
  latentPayloadBytes,
  packLatentPayload,
  unpackLatentPayload,
  type LatentCodecName,
} from './latent-payload';
export {
  sameLatentShape,
  type LatentFloats,
  type LatentRows,
  type LatentShape,
} from './latent-rows';
