// A binary max-heap of candidate BPE merges, for the llama2.c tokenizer's merge loop. Order: the
// highest score first, then the leftmost pair (run.c rescans left to right and keeps the first best).

/** Merging the adjacent symbols `left` and `right` into token `id`, as seen when it was pushed. */
export interface MergeCandidate {
  /** The merged piece's score. */
  score: number;
  /** The merged token id. */
  id: number;
  /** Symbol indices: original positions, so a smaller `left` is further left. */
  left: number;
  right: number;
  /** The symbols' versions when pushed; a later change to either makes the candidate stale. */
  leftVersion: number;
  rightVersion: number;
}

/** Whether `a` merges before `b`. */
function before(a: MergeCandidate, b: MergeCandidate): boolean {
  return a.score > b.score || (a.score === b.score && a.left < b.left);
}

export class PairHeap {
  private readonly items: MergeCandidate[] = [];

  get size(): number {
    return this.items.length;
  }

  /** Scores must be comparable (not NaN), or the order is undefined. */
  push(c: MergeCandidate): void {
    this.items.push(c);
    this.siftUp(this.items.length - 1);
  }

  /** The candidate that merges first, removed; undefined when empty. */
  pop(): MergeCandidate | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private siftUp(i: number): void {
    const items = this.items;
    const item = items[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, items[parent])) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = item;
  }

  private siftDown(i: number): void {
    const items = this.items;
    const item = items[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= items.length) break;
      if (child + 1 < items.length && before(items[child + 1], items[child])) child++;
      if (!before(items[child], item)) break;
      items[i] = items[child];
      i = child;
    }
    items[i] = item;
  }
}
