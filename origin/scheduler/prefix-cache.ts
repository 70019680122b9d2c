// The origin's prefix cache: KV rows of whole 64-token prompt blocks, kept within a byte budget and
// evicted least recently used first. A request whose prompt starts with cached blocks restores them
// into its slot instead of computing them. Blocks are named as the edge's prompt cache names them
// (engine/prompt-cache/blocks.ts): a SHA-256 chain over every token up to the block's end, seeded
// with the tenant salt, the model id and its weights digest, so tenants never share a block.
// With a codec (latent-blocks.ts) blocks are held encoded, and the budget counts the encoded bytes.
import { createHash } from 'node:crypto';
import {
  BLOCK_TOKENS,
  cacheableBlocks,
  chainHashes,
  toHex,
  type ChainSeed,
} from '../../engine/prompt-cache/blocks';
import type { KvRows } from '../backend/step-backend';

/** node:crypto's SHA-256, answered at once (chainHashes says why the origin wants that). */
export const sha256Now = (bytes: Uint8Array): Uint8Array =>
  createHash('sha256').update(bytes).digest();

/** Hex keys of every whole block of the prompt. */
export async function promptBlockKeys(seed: ChainSeed, promptIds: number[]): Promise<string[]> {
  const blocks = cacheableBlocks(promptIds.length);
  return (await chainHashes(seed, promptIds, blocks, sha256Now)).map(toHex);
}

/** How the cache holds blocks other than as the backend's rows. */
export interface BlockCodec {
  readonly name: string;
  /** What to hold for a block (it takes over `rows`), or null: this block cannot be held. */
  encode(key: string, rows: KvRows): KvRows | null;
  /** The rows to restore at `start`, or null: the held entry is a miss. */
  decode(key: string, start: number, held: KvRows): KvRows | null;
}

export class PrefixCache {
  /** Map order is recency: a hit moves its entry to the end; eviction takes from the front. */
  private readonly entries = new Map<string, KvRows>();
  private used = 0;

  constructor(
    readonly maxBytes: number,
    private readonly codec?: BlockCodec,
  ) {}

  /** 'exact' (the backend's rows) or the codec's name. */
  get codecName(): string {
    return this.codec?.name ?? 'exact';
  }

  get blocks(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.used;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The cached rows of the longest run of keys from the first (block i at i·64), marked recently used. */
  lookup(keys: readonly string[]): KvRows[] {
    const found: KvRows[] = [];
    for (const [i, key] of keys.entries()) {
      const held = this.entries.get(key);
      if (!held) break;
      this.entries.delete(key);
      const rows = this.codec ? this.codec.decode(key, i * BLOCK_TOKENS, held) : held;
      if (!rows) {
        this.used -= held.bytes; // a damaged entry leaves the cache
        held.release?.();
        break;
      }
      this.entries.set(key, held);
      found.push(rows);
    }
    return found;
  }

  insert(key: string, rows: KvRows): void {
    if (this.entries.has(key) || this.maxBytes === 0) return rows.release?.();
    const held = this.codec ? this.codec.encode(key, rows) : rows;
    if (!held || held.bytes > this.maxBytes) return held?.release?.();
    this.entries.set(key, held);
    this.used += held.bytes;
    for (const [old, r] of this.entries) {
      if (this.used <= this.maxBytes) break;
      this.entries.delete(old);
      this.used -= r.bytes;
      r.release?.();
    }
  }
}
