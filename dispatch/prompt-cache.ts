// The prompt cache in Workers KV (DESIGN.md "Prompt-cache entries"). One entry per 64-token block,
// keyed `pc:v1:<tenant-salt>:<model-id>@<weights-sha>:<chain-hash>`, stored as base64 text so that
// one bulk get (up to 100 keys) reads a whole prefix. Lookup restores the longest run of good
// blocks from the start (all but the last prompt token, which is always computed); the blocks
// after the run, and the whole blocks of the completion, are written once the response is done (waitUntil),
// each key at most once a second per isolate (KV's per-key write limit), with a TTL.
import {
  BLOCK_TOKENS,
  CODEC_NAMES,
  HEADER_BYTES,
  cacheEntryKey,
  cacheableBlocks,
  chainHashes,
  decodeEntry,
  encodeEntry,
  fromBase64,
  keyPrefix,
  payloadBytes,
  restoredTokens,
  sliceKvRows,
  toBase64,
  type ChainSeed,
  type CodecName,
  type KvCapture,
  type GqaKvRows,
  type KvShape,
} from '../engine/index';
import type { LatentRows } from '../engine/prompt-cache/latent-rows';

export interface PromptCacheSettings {
  codec: CodecName;
  ttlSeconds: number;
}

export const DEFAULT_CODEC: CodecName = 'int8';
export const DEFAULT_TTL_SECONDS = 24 * 3600;
/** Workers KV's shortest expirationTtl. */
export const MIN_TTL_SECONDS = 60;
const MAX_KEY_BYTES = 512;
const MAX_BULK_KEYS = 100;
/** Under KV's 25 MiB per bulk get. */
const BULK_BYTES = 20 * 1024 * 1024;
const WRITE_DEDUPE_MS = 1000;

/** Settings from the Worker's vars; a codec of `off` (or none of the names) turns the cache off. */
export function promptCacheSettings(vars: {
  PROMPT_CACHE_CODEC?: string;
  PROMPT_CACHE_TTL_SECONDS?: string | number;
}): PromptCacheSettings | null {
  const codec = (vars.PROMPT_CACHE_CODEC || DEFAULT_CODEC) as CodecName | 'off';
  if (codec === 'off') return null;
  if (!CODEC_NAMES.includes(codec))
    throw new Error(
      `PROMPT_CACHE_CODEC must be one of ${CODEC_NAMES.join(', ')} or off, got '${codec}'`,
    );
  const ttl =
    vars.PROMPT_CACHE_TTL_SECONDS === undefined || vars.PROMPT_CACHE_TTL_SECONDS === ''
      ? DEFAULT_TTL_SECONDS
      : Number(vars.PROMPT_CACHE_TTL_SECONDS);
  if (!Number.isInteger(ttl) || ttl < MIN_TTL_SECONDS)
    throw new Error(
      `PROMPT_CACHE_TTL_SECONDS must be an integer >= ${MIN_TTL_SECONDS}, got '${vars.PROMPT_CACHE_TTL_SECONDS}'`,
    );
  return { codec, ttlSeconds: ttl };
}

/** Whose entries, for which model: everything a block's identity depends on besides its tokens. */
export interface CacheScope extends ChainSeed {
  shape: KvShape;
}

export { keyPrefix };
const keyOf = cacheEntryKey;

/** The model id of a cache key, or null when it is not one (purge matches on it). */
export function modelOfKey(key: string): string | null {
  if (!key.startsWith(keyPrefix())) return null;
  const rest = key.slice(keyPrefix().length);
  const afterSalt = rest.slice(rest.indexOf(':') + 1);
  const at = afterSalt.lastIndexOf('@');
  return at > 0 ? afterSalt.slice(0, at) : null;
}

export interface PromptCacheIo {
  kv: KVNamespace;
  settings: PromptCacheSettings;
  /** Keeps the write-behind alive after the response (ExecutionContext.waitUntil). */
  waitUntil: (promise: Promise<unknown>) => void;
}

/** What a generation takes from the cache: rows to restore, and a capture that stores the rest. */
export interface PromptCacheUse {
  /** Prompt tokens the restore spares from computing. */
  hitTokens: number;
  restore: GqaKvRows[];
  /** An MLA model's rows instead (dispatch/latent-cache.ts): from KV, or from a prefill origin. */
  latents?: LatentRows<Float32Array>[];
  /**
   * The prompt was prefilled at an origin (dispatch/edge-handoff.ts): its blocks are restored, but only
   * `hitTokens` (those KV held before this request) are billed as cache hits.
   */
  handoff?: { by: string };
  capture?: KvCapture;
  /** Where the lookup's time went (a Server-Timing header, benchmarks). */
  timing?: { hashMs: number; kvReadMs: number; decodeMs: number };
}

/**
 * Texts of `keys` in order (null: absent or unreadable), in as few bulk reads as KV's limits allow.
 * `entryBytes` estimates one entry (header and payload, before deflate); entries of a bigger codec may
 * overflow a read, which is then a miss, and the rewrite in the current codec heals it.
 */
export async function bulkGetTexts(
  kv: KVNamespace,
  keys: string[],
  entryBytes: number,
): Promise<(string | null)[]> {
  const entryText = Math.ceil((1.01 * entryBytes + 64) / 3) * 4;
  const perRead = Math.max(1, Math.min(MAX_BULK_KEYS, Math.floor(BULK_BYTES / entryText)));
  const batches: string[][] = [];
  for (let i = 0; i < keys.length; i += perRead) batches.push(keys.slice(i, i + perRead));
  const maps = await Promise.all(
    batches.map((batch) =>
      kv.get(batch, 'text').catch((err: unknown) => {
        console.warn(
          `prompt cache: bulk get of ${batch.length} keys failed, treated as misses:`,
          err,
        );
        return new Map<string, string | null>();
      }),
    ),
  );
  return keys.map((key, i) => maps[Math.floor(i / perRead)].get(key) ?? null);
}

export class PromptCache {
  /** Keys this isolate wrote in the last second, with when. */
  private readonly recentWrites = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Looks the prompt up; never throws for KV trouble or bad entries (those are misses). */
  async open(io: PromptCacheIo, scope: CacheScope, promptIds: number[]): Promise<PromptCacheUse> {
    const blocks = cacheableBlocks(promptIds.length);
    if (blocks === 0) return { hitTokens: 0, restore: [] };
    const hashStart = performance.now();
    const hashes = await chainHashes(scope, promptIds, blocks);
    const keys = hashes.map((h) => keyOf(scope, h));
    if (new TextEncoder().encode(keys[0]).length > MAX_KEY_BYTES)
      return { hitTokens: 0, restore: [] };
    const readStart = performance.now();
    const entryBytes = HEADER_BYTES + payloadBytes(scope.shape, BLOCK_TOKENS, io.settings.codec);
    const texts = await bulkGetTexts(io.kv, keys, entryBytes);
    const decodeStart = performance.now();
    // Blocks are decoded concurrently, but only a run of good ones from block 0 can be used.
    const decoded = await Promise.all(
      texts.map(async (text, b) => {
        const bytes = text === null ? null : fromBase64(text);
        if (bytes === null) return null;
        const result = await decodeEntry(bytes, {
          chainHash: hashes[b],
          shape: scope.shape,
          start: b * BLOCK_TOKENS,
          count: BLOCK_TOKENS,
        });
        if (!result.ok) console.warn(`prompt cache: entry ${keys[b]} is a miss: ${result.reason}`);
        return result.ok ? result.rows : null;
      }),
    );
    const restore: GqaKvRows[] = [];
    for (const rows of decoded) {
      if (rows === null) break;
      restore.push(rows);
    }
    const hit = restore.length;
    const timing = {
      hashMs: readStart - hashStart,
      kvReadMs: decodeStart - readStart,
      decodeMs: performance.now() - decodeStart,
    };
    const hitTokens = restoredTokens(hit, promptIds.length);
    // The prompt's missing blocks, and the completion's whole blocks too: a chat's next turn repeats
    // this prompt and this answer, so its prompt restores both (DeepSeek caches conversations alike).
    const capture: KvCapture = {
      from: hit * BLOCK_TOKENS,
      to: blocks * BLOCK_TOKENS,
      completion: true,
      rows: (rows, tokens) => io.waitUntil(this.store(io, scope, rows, tokens, keys, hashes)),
    };
    return { hitTokens, restore, capture, timing };
  }

  /**
   * Encodes and writes the captured blocks. It runs after the response: its first step yields to
   * it, and it yields again before each block so other requests on this isolate are not held up.
   */
  private async store(
    io: PromptCacheIo,
    scope: CacheScope,
    rows: GqaKvRows,
    tokens: readonly number[],
    keys: string[],
    hashes: Uint8Array[],
  ): Promise<void> {
    const end = Math.floor((rows.start + rows.count) / BLOCK_TOKENS) * BLOCK_TOKENS;
    if (end / BLOCK_TOKENS > keys.length) {
      // blocks that end in the completion: the chain runs on over the sampled tokens
      hashes = await chainHashes(scope, tokens as number[], end / BLOCK_TOKENS);
      keys = hashes.map((h) => keyOf(scope, h));
    }
    const now = this.now();
    for (const [key, at] of this.recentWrites)
      if (now - at >= WRITE_DEDUPE_MS) this.recentWrites.delete(key);
    const puts: Promise<void>[] = [];
    for (let start = rows.start; start + BLOCK_TOKENS <= end; start += BLOCK_TOKENS) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      const b = start / BLOCK_TOKENS;
      if (this.recentWrites.has(keys[b])) continue;
      this.recentWrites.set(keys[b], now);
      try {
        const entry = await encodeEntry(
          sliceKvRows(rows, start, BLOCK_TOKENS),
          io.settings.codec,
          hashes[b],
        );
        puts.push(io.kv.put(keys[b], toBase64(entry), { expirationTtl: io.settings.ttlSeconds }));
      } catch (err) {
        console.warn(`prompt cache: block ${b} not stored:`, err);
      }
    }
    for (const r of await Promise.allSettled(puts))
      if (r.status === 'rejected') console.warn('prompt cache: a write failed:', r.reason);
  }
}
