// Prompt blocks and their chain hashes. A prompt is cut into 64-token blocks; block i is named by
// a hash that chains every token up to its end onto a seed that commits to the tenant, the model,
// its weights and the cache format, so equal hashes mean equal KV rows. Every full block may be
// cached; a partial last block never is. The model needs the last prompt token's logits, so that
// token is always computed, even when its block was restored (as vLLM does on a full hit).

export const BLOCK_TOKENS = 64;
export const CACHE_FORMAT = 'pc:v1';

/** Full blocks of a prompt: the ones the cache may hold. */
export function cacheableBlocks(promptTokens: number): number {
  return Math.floor(promptTokens / BLOCK_TOKENS);
}

/** Prompt tokens a restore of `blocks` blocks spares from computing: all but the last prompt token. */
export function restoredTokens(blocks: number, promptTokens: number): number {
  return Math.max(0, Math.min(blocks * BLOCK_TOKENS, promptTokens - 1));
}

export interface ChainSeed {
  /** Per tenant (account): two tenants never share an entry. */
  tenantSalt: string;
  modelId: string;
  /** Hex SHA-256 of the checkpoint bytes (weightsDigest). */
  weightsDigest: string;
}

/** The prefix of a tenant's cache keys (every tenant's with no salt). */
export const keyPrefix = (tenantSalt?: string) =>
  `${CACHE_FORMAT}:${tenantSalt === undefined ? '' : `${tenantSalt}:`}`;

/**
 * A block's key in Workers KV: `pc:v1:<tenant-salt>:<model-id>@<weights-sha[:16]>:<chain-hash[:16]>`
 * (dispatch/prompt-cache.ts reads and writes them; an origin emits its blocks under them).
 */
export const cacheEntryKey = (s: ChainSeed, hash: Uint8Array): string =>
  `${keyPrefix(s.tenantSalt)}${s.modelId}@${s.weightsDigest.slice(0, 16)}:${toHex(hash.subarray(0, 16))}`;

/** SHA-256 of bytes: Web Crypto's (async), or one that answers at once. */
export type Sha256 = (bytes: Uint8Array) => Uint8Array | Promise<Uint8Array>;

const sha256 = async (bytes: Uint8Array): Promise<Uint8Array> =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));

export const toHex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** Hex SHA-256 of a checkpoint: computed once when a model loads, it tells weight versions apart. */
export async function weightsDigest(checkpoint: Uint8Array): Promise<string> {
  return toHex(await sha256(checkpoint));
}

/**
 * Chain hashes of the first `blocks` blocks: h(i) = SHA-256(h(i-1) ‖ tokens of block i as u32 LE), h(-1)
 * from the seed. `digest` may be a synchronous SHA-256 (an origin passes node:crypto's): Node answers Web
 * Crypto's digest from its thread pool, an event-loop turn per block, and a turn of an origin busy with
 * steps is a step, so a 768-token prompt waited 12 steps, 60-85 ms under 4 decoding streams, before its
 * prefill began (bench/RESULTS.md 2026-12-08).
 */
export async function chainHashes(
  seed: ChainSeed,
  promptIds: number[],
  blocks: number,
  digest: Sha256 = sha256,
): Promise<Uint8Array[]> {
  if (blocks * BLOCK_TOKENS > promptIds.length)
    throw new RangeError(
      `${blocks} blocks need ${blocks * BLOCK_TOKENS} tokens, the prompt has ${promptIds.length}`,
    );
  const fields = [CACHE_FORMAT, seed.tenantSalt, seed.modelId, seed.weightsDigest];
  let prev = await digest(
    new TextEncoder().encode(fields.map((f) => `${f.length}:${f}`).join('\n')),
  );
  const hashes: Uint8Array[] = [];
  const buf = new Uint8Array(32 + 4 * BLOCK_TOKENS);
  const tokens = new DataView(buf.buffer, 32);
  for (let b = 0; b < blocks; b++) {
    buf.set(prev, 0);
    for (let t = 0; t < BLOCK_TOKENS; t++)
      tokens.setUint32(4 * t, promptIds[b * BLOCK_TOKENS + t], true);
    prev = await digest(buf);
    hashes.push(prev);
  }
  return hashes;
}
