// Memory a decode origin reads handed-over prompts into (handoff-pull.ts): each hand-off borrows one
// buffer, inflates its blocks and logits straight into it, and the buffer comes back for the next when
// the last holder of its lease lets go (scheduler/handoff.ts). A new buffer per hand-off (~1.2 MB per
// 1K tokens of the trained model) was old-generation memory by the time the rows reached a slot, and its
// collector's major GCs paused every decoding stream.
import type { Lease } from '../scheduler/handoff';

export class HandoffBuffers {
  private readonly free: ArrayBuffer[] = [];

  /** minBytes: each new buffer's least size (a whole context's), so one size serves every prompt. */
  constructor(private readonly minBytes: number) {}

  /** A buffer of at least `bytes` (its contents are garbage) and its lease, held once. */
  lend(bytes: number): { buffer: ArrayBuffer; lease: Lease } {
    const i = this.free.findIndex((b) => b.byteLength >= bytes);
    const buffer =
      i >= 0 ? this.free.splice(i, 1)[0] : new ArrayBuffer(Math.max(bytes, this.minBytes));
    let holds = 1;
    const lease: Lease = {
      hold: () => {
        holds++;
      },
      release: () => {
        if (holds <= 0) throw new Error('a hand-off buffer released more often than held');
        if (--holds === 0) this.free.push(buffer);
      },
    };
    return { buffer, lease };
  }
}
