// The prompt cache in Workers KV for MLA models (the edge DeepSeek engine): the same keys, chain hashes
// and bulk reads as dispatch/prompt-cache.ts, with latent entries (engine/prompt-cache/latent-entry.ts:
// c_kv and k_pe of every layer per 64-token block) for values. The lookup restores the longest run of
// good blocks from block 0; a damaged, stale or foreign entry is a miss. Blocks are written by a prefill
// origin's hand-off (edge-handoff.ts); the engine does not capture its own yet.
import {
  BLOCK_TOKENS,
  HEADER_BYTES,
  cacheEntryKey,
  cacheableBlocks,
  chainHashes,
  decodeLatentEntry,
  fromBase64,
  latentPayloadBytes,
  restoredTokens,
  type ChainSeed,
  type LatentRows,
  type LatentShape,
} from '../engine/prompt-cache/index';
import { bulkGetTexts, type PromptCacheIo } from './prompt-cache';

export interface LatentScope extends ChainSeed {
  latent: LatentShape;
}

export interface LatentLookup {
  /** Whole blocks of the prompt, their chain hashes and KV keys. */
  hashes: Uint8Array[];
  keys: string[];
  /** The run of good blocks from block 0. */
  rows: LatentRows<Float32Array>[];
  hitTokens: number;
  timing: { hashMs: number; kvReadMs: number; decodeMs: number };
}

/** An entry of block `b` as KV holds it (base64 text): its rows, or null (a miss, logged). */
export async function decodeBlock(
  text: string | null,
  scope: LatentScope,
  hashes: Uint8Array[],
  b: number,
): Promise<LatentRows<Float32Array> | null> {
  const bytes = text === null ? null : fromBase64(text);
  if (bytes === null) return null;
  const r = await decodeLatentEntry(bytes, {
    chainHash: hashes[b],
    shape: scope.latent,
    start: b * BLOCK_TOKENS,
    count: BLOCK_TOKENS,
  });
  if (!r.ok) console.warn(`prompt cache: latent block ${b} is a miss: ${r.reason}`);
  return r.ok ? r.rows : null;
}

/** The run of non-null blocks from block 0. */
export const leadingRun = <T>(blocks: (T | null)[]): T[] => {
  const i = blocks.indexOf(null);
  return (i < 0 ? blocks : blocks.slice(0, i)) as T[];
};

/** Looks the prompt up; never throws for KV trouble or bad entries (those are misses). */
export async function lookupLatent(
  io: Pick<PromptCacheIo, 'kv'>,
  scope: LatentScope,
  promptIds: number[],
): Promise<LatentLookup> {
  const t0 = performance.now();
  const hashes = await chainHashes(scope, promptIds, cacheableBlocks(promptIds.length));
  const keys = hashes.map((h) => cacheEntryKey(scope, h));
  const t1 = performance.now();
  // Sized for the largest latent codec: a read holds fewer keys, never overflows.
  const entryBytes = HEADER_BYTES + latentPayloadBytes(scope.latent, BLOCK_TOKENS, 'f32');
  const texts = keys.length ? await bulkGetTexts(io.kv, keys, entryBytes) : [];
  const t2 = performance.now();
  const rows = leadingRun(await Promise.all(texts.map((t, b) => decodeBlock(t, scope, hashes, b))));
  return {
    hashes,
    keys,
    rows,
    hitTokens: restoredTokens(rows.length, promptIds.length),
    timing: { hashMs: t1 - t0, kvReadMs: t2 - t1, decodeMs: performance.now() - t2 },
  };
}

/** Writes entries (already checked) with the cache's TTL after the response; failures are logged. */
export function storeEntries(
  io: PromptCacheIo,
  entries: readonly { key: string; value: string }[],
): void {
  if (entries.length === 0) return;
  io.waitUntil(
    Promise.allSettled(
      entries.map((e) => io.kv.put(e.key, e.value, { expirationTtl: io.settings.ttlSeconds })),
    ).then((done) => {
      for (const r of done)
        if (r.status === 'rejected') console.warn('prompt cache: a write failed:', r.reason);
    }),
  );
}
