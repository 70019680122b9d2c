// The origin's prefix cache: KV rows of whole 64-token prompt blocks, kept within a byte budget and
// evicted least recently used first. A request whose prompt starts with cached blocks restores them
// into its slot instead of computing them. Blocks are named as the edge's prompt cache names them
// (engine/prompt-cache/blocks.ts): a SHA-256 chain over every token up to the block's end, seeded
// with the tenant salt, the model id and its weights digest, so tenants never share a block.
import { cacheableBlocks, chainHashes, toHex, type ChainSeed } from '../../engine/prompt-cache/blocks';
import type { KvRows } from '../backend/step-backend';

/** Hex keys of every whole block of the prompt. */
export async function promptBlockKeys(seed: ChainSeed, promptIds: number[]): Promise<string[]> {
  return (await chainHashes(seed, promptIds, cacheableBlocks(promptIds.length))).map(toHex);
}

export class PrefixCache {
  /** Map order is recency: a hit moves its entry to the end; eviction takes from the front. */
  private readonly entries = new Map<string, KvRows>();
  private used = 0;

  constructor(readonly maxBytes: number) {}

  get blocks(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.used;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The cached rows of the longest run of keys from the first, marked recently used. */
  lookup(keys: readonly string[]): KvRows[] {
    const found: KvRows[] = [];
    for (const key of keys) {
      const rows = this.entries.get(key);
      if (!rows) break;
      this.entries.delete(key);
      this.entries.set(key, rows);
      found.push(rows);
    }
    return found;
  }

  insert(key: string, rows: KvRows): void {
    if (this.entries.has(key) || rows.bytes > this.maxBytes) return rows.release?.();
    this.entries.set(key, rows);
    this.used += rows.bytes;
    for (const [old, r] of this.entries) {
      if (this.used <= this.maxBytes) break;
      this.entries.delete(old);
      this.used -= r.bytes;
      r.release?.();
    }
  }
}
