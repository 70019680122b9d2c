// How the prefix cache holds an MLA backend's blocks under --prefix-cache-codec f32|f16|int8|fp8:
// as latent prompt-cache entries (engine/prompt-cache/latent-entry.ts: c_kv and k_pe quantized,
// deflated, behind a checked header), the edge's entry format, so the byte budget counts their
// compressed size and holds several times more blocks than exact f64 rows. A block is encoded when
// its prefill step ends and decoded when a request restores it; both happen between forward steps,
// synchronously, hence node:zlib rather than CompressionStream.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import {
  LATENT_CODEC_NAMES,
  decodeLatentEntrySync,
  encodeLatentEntrySync,
  type LatentCodecName,
  type SyncDeflate,
} from '../../engine/prompt-cache/index';
import type { KvRows, LatentAccess } from '../backend/step-backend';
import type { BlockCodec } from './prefix-cache';

/** `exact`: the backend's own rows (f64 on the CPU, GPU buffers on WebGPU), as before codecs. */
export const PREFIX_CACHE_CODECS = ['exact', ...LATENT_CODEC_NAMES] as const;
export type PrefixCacheCodec = (typeof PREFIX_CACHE_CODECS)[number];

interface EncodedRows extends KvRows {
  readonly entry: Uint8Array;
}

const zlib: SyncDeflate = {
  deflate: (bytes) => deflateRawSync(bytes),
  inflate: (bytes, limit) => inflateRawSync(bytes, { maxOutputLength: Math.max(1, limit) }),
};

const fromHex = (hex: string): Uint8Array =>
  Uint8Array.from({ length: hex.length / 2 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));

export function latentBlockCodec(access: LatentAccess, codec: LatentCodecName): BlockCodec {
  return {
    name: codec,
    encode(key: string, rows: KvRows): KvRows | null {
      try {
        const entry = encodeLatentEntrySync(access.toLatents(rows), codec, fromHex(key), zlib);
        const held: EncodedRows = { tokens: rows.tokens, bytes: entry.length, entry };
        return held;
      } catch (err) {
        if (err instanceof RangeError) return null; // non-finite latents: the block is computed again next time
        throw err;
      } finally {
        rows.release?.();
      }
    },
    decode(key: string, start: number, held: KvRows): KvRows | null {
      const expect = { chainHash: fromHex(key), shape: access.shape, start, count: held.tokens };
      const got = decodeLatentEntrySync((held as EncodedRows).entry, expect, zlib);
      if (got.ok) return access.fromLatents(got.rows);
      console.warn(
        `origin: prefix-cache block [${start}, ${start + held.tokens}) is a miss: ${got.reason}`,
      );
      return null;
    },
  };
}
