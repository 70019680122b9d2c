// The origin's prefix cache: KV rows of whole 64-token prompt blocks, keyed by their chained hash
// (block-hash.ts), kept within a byte budget and evicted least recently used first. A request whose
// prompt starts with cached blocks restores them into its slot instead of computing them.
import type { KvRows } from '../backend/step-backend';

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
    if (this.entries.has(key) || rows.bytes > this.maxBytes) return;
    this.entries.set(key, rows);
    this.used += rows.bytes;
    for (const [old, r] of this.entries) {
      if (this.used <= this.maxBytes) break;
      this.entries.delete(old);
      this.used -= r.bytes;
    }
  }
}
