// Host bookkeeping of the paged latent KV cache: which pages each slot (running sequence) owns, handed out
// lazily as its positions grow and returned when the slot is freed, plus the page table the GPU reads
// ([slots, maxPages] page ids). Every layer's cache uses the same page ids.

export class KvPageError extends Error {
  override name = 'KvPageError';
}

export class KvPages {
  readonly maxPages: number;
  /** [slots, maxPages]: the GPU's copy is refreshed from this for the slots a step touches. */
  readonly table: Uint32Array<ArrayBuffer>;
  private readonly owned: number[][];
  private readonly freePages: number[];
  private readonly freeSlots: number[];

  constructor(
    readonly slots: number,
    readonly pages: number,
    readonly pageSize: number,
    readonly maxSeqLen: number,
  ) {
    this.maxPages = Math.ceil(maxSeqLen / pageSize);
    this.table = new Uint32Array(slots * this.maxPages);
    this.owned = Array.from({ length: slots }, () => []);
    this.freePages = Array.from({ length: pages }, (_, i) => pages - 1 - i);
    this.freeSlots = Array.from({ length: slots }, (_, i) => slots - 1 - i);
  }

  /** A free slot (lowest first), or null when all are taken. */
  allocate(): number | null {
    return this.freeSlots.pop() ?? null;
  }

  free(slot: number): void {
    this.checkSlot(slot);
    if (this.freeSlots.includes(slot)) throw new KvPageError(`slot ${slot} freed twice`);
    this.freePages.push(...this.owned[slot].reverse());
    this.owned[slot] = [];
    this.freeSlots.push(slot);
  }

  isAllocated(slot: number): boolean {
    return slot >= 0 && slot < this.slots && !this.freeSlots.includes(slot);
  }

  /** Makes sure positions 0..end-1 of the slot have pages; true when its table row changed. */
  reserve(slot: number, end: number): boolean {
    this.checkSlot(slot);
    if (end > this.maxSeqLen)
      throw new KvPageError(
        `slot ${slot}: position ${end - 1} exceeds maxSeqLen ${this.maxSeqLen}`,
      );
    const own = this.owned[slot],
      need = Math.ceil(end / this.pageSize);
    if (own.length >= need) return false;
    if (this.freePages.length < need - own.length) {
      throw new KvPageError(
        `out of KV pages: slot ${slot} needs ${need - own.length} more, ${this.freePages.length} free of ${this.pages}`,
      );
    }
    while (own.length < need) {
      const page = this.freePages.pop()!;
      this.table[slot * this.maxPages + own.length] = page;
      own.push(page);
    }
    return true;
  }

  /** Cache row (page · pageSize + offset) of a position the slot has reserved. */
  row(slot: number, pos: number): number {
    const page = this.owned[slot][Math.floor(pos / this.pageSize)];
    if (page === undefined) throw new KvPageError(`slot ${slot} holds no page for position ${pos}`);
    return page * this.pageSize + (pos % this.pageSize);
  }

  private checkSlot(slot: number): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slots)
      throw new KvPageError(`slot ${slot} outside 0..${this.slots - 1}`);
  }
}
