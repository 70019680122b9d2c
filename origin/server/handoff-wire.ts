// The hand-off stream between origins (POST /internal/prefill's body, docs/origin.md "Roles"): frames
// of [kind u8][length u32 LE][payload]. A head (JSON), then one latent prompt-cache entry per 64-token
// block of the prompt (engine/prompt-cache/latent-entry.ts, f32 codec: the CPU backend's rows are f32,
// so the copy is exact), then the last position's logits (raw f32 or f64), then nothing: a stream that
// ends before its logits frame is a failed hand-off. An error frame replaces the rest.
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { SyncDeflate } from '../../engine/prompt-cache/index';

export const FRAME = { head: 1, entry: 2, logits: 3, error: 4 } as const;

export interface HandoffHead {
  tokens: number;
  blocks: number;
  logits: 'f32' | 'f64';
  vocab: number;
}

/**
 * Level 0 (stored blocks): f32 latents barely compress (level 1 saved 9% of a 2K-token prompt's 3.0 MB),
 * while deflating took the prefill origin ~9× and inflating the decode origin ~3× the time of storing
 * (a 1984-token prompt of synthetic:small, bench/RESULTS.md 2026-12-07 "hand-off"): CPU the decode
 * origin takes from its decoding streams. The entry format wants deflate; stored blocks are deflate.
 */
export const fastZlib: SyncDeflate = {
  deflate: (bytes) => deflateRawSync(bytes, { level: 0 }),
  inflate: (bytes, limit) => inflateRawSync(bytes, { maxOutputLength: Math.max(1, limit) }),
  inflateInto(bytes, out) {
    if (copyStored(bytes, out)) return;
    const got = fastZlib.inflate(bytes, out.length);
    if (got.length !== out.length)
      throw new Error(`${got.length} bytes inflated, not ${out.length}`);
    out.set(got);
  },
};

/**
 * Inflates a deflate stream of stored blocks only (RFC 1951 3.2.4, what level 0 writes) into `out`,
 * which it must fill exactly; false where a block is not stored (zlib's inflate then reads it). Node's
 * inflate has no way to write into given memory: each entry would be new memory for the collector.
 */
function copyStored(bytes: Uint8Array, out: Uint8Array): boolean {
  let i = 0,
    o = 0;
  for (;;) {
    // a stored block ends on a byte boundary, so each header is a byte's low 3 bits, padding above
    if (i + 5 > bytes.length) throw new Error('the deflate stream ends inside a block header');
    if ((bytes[i] & 6) !== 0) return false;
    const final = bytes[i] & 1,
      len = bytes[i + 1] | (bytes[i + 2] << 8);
    if ((len ^ (bytes[i + 3] | (bytes[i + 4] << 8))) !== 0xffff)
      throw new Error("a stored block's length check fails");
    i += 5;
    if (i + len > bytes.length || o + len > out.length)
      throw new Error('a stored block runs past its stream or its output');
    out.set(bytes.subarray(i, i + len), o);
    i += len;
    o += len;
    if (final) {
      if (o !== out.length) throw new Error(`${o} bytes inflated, not ${out.length}`);
      return true;
    }
  }
}

export function frame(kind: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = kind;
  new DataView(out.buffer).setUint32(1, payload.length, true);
  out.set(payload, 5);
  return out;
}

export const jsonFrame = (kind: number, value: unknown) =>
  frame(kind, new TextEncoder().encode(JSON.stringify(value)));

/**
 * Each block's chain hash, the entry's check that it is the block asked for: the prompt-cache key where
 * the block is whole and keyed (the Worker's KV key), else a hash of the prompt and the block's index.
 */
export function blockHash(
  promptIds: readonly number[],
  keys: readonly string[],
  i: number,
): Uint8Array {
  if (i < keys.length) return Uint8Array.from(Buffer.from(keys[i], 'hex'));
  const h = createHash('sha256');
  h.update(`handoff:${i}:`);
  h.update(new Uint8Array(Int32Array.from(promptIds).buffer));
  return new Uint8Array(h.digest());
}

/** The most a FrameReader holds unread, and so the longest frame it takes. */
export const FRAME_READER_LIMIT = 64 << 20;

/**
 * Reads frames off a byte stream as they arrive. A pump reads the stream as fast as it delivers, whether or
 * not a frame is asked for: a decode origin busy with steps reaches its event loop's I/O once a step, so a
 * reader that waited to be asked took one step per 16-64 KB chunk (with the turns below and the block keys',
 * a 768-token prompt's first token came 130-170 ms after the prefill origin's own under 4 decoding streams,
 * 0-30 ms now: bench/RESULTS.md 2026-12-08). It holds at most
 * FRAME_READER_LIMIT bytes unread. Chunks wait in a list until a frame is whole; the frame is then a view of
 * its chunk, or joined from several into the reader's scratch, which it reuses: a payload is valid until
 * the next call. (Joining each chunk onto the bytes before it copied a frame once per chunk it spans, and a
 * new array per frame was still ~1 MB per 1K-token hand-off: memory the decode origin's collector then
 * reclaims, in pauses every decoding stream sees.)
 */
export class FrameReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private scratch = new Uint8Array(0);
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private ended = false;
  private failure: { error: unknown } | null = null;
  /** Wakes next() when the pump brings bytes, ends or fails. */
  private arrived: (() => void) | null = null;
  /** Wakes the pump when next() took bytes off a full reader. */
  private drained: (() => void) | null = null;

  constructor(
    body: ReadableStream<Uint8Array>,
    private readonly limit = FRAME_READER_LIMIT,
  ) {
    this.reader = body.getReader();
    void this.pump();
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        while (this.buffered >= this.limit)
          await new Promise<void>((resolve) => (this.drained = resolve));
        const { done, value } = await this.reader.read();
        if (done) break;
        this.chunks.push(value);
        this.buffered += value.length;
        this.wake();
      }
    } catch (error) {
      this.failure = { error };
    }
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const arrived = this.arrived;
    this.arrived = null;
    arrived?.();
  }

  /** The next frame, or null at the end of the stream; throws on a stream cut inside a frame. */
  async next(): Promise<{ kind: number; payload: Uint8Array } | null> {
    for (;;) {
      if (this.buffered >= 5) {
        const head = this.peek5();
        const len = new DataView(head.buffer, head.byteOffset).getUint32(1, true);
        if (5 + len > this.limit)
          throw new Error(`a hand-off frame of ${len} bytes is over the reader's ${this.limit}`);
        if (this.buffered >= 5 + len) {
          this.take(5);
          return { kind: head[0], payload: this.take(len) };
        }
      }
      if (this.failure) throw this.failure.error;
      if (this.ended) {
        if (this.buffered > 0) throw new Error('the hand-off stream ended inside a frame');
        return null;
      }
      await new Promise<void>((resolve) => (this.arrived = resolve));
    }
  }

  cancel(): void {
    this.reader.cancel().catch(() => {});
    this.buffered = 0; // a pump waiting for room reads on to the end the cancel brings
    this.chunks = [];
    const drained = this.drained;
    this.drained = null;
    drained?.();
  }

  /** The frame header (the first 5 bytes), left in place. */
  private peek5(): Uint8Array {
    if (this.chunks[0].length >= 5) return this.chunks[0].subarray(0, 5);
    const head = new Uint8Array(5);
    let o = 0;
    for (const c of this.chunks) {
      const k = Math.min(c.length, 5 - o);
      head.set(c.subarray(0, k), o);
      if ((o += k) === 5) break;
    }
    return head;
  }

  /** Removes the first n bytes: a view when one chunk holds them, else a copy in the scratch. */
  private take(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    this.buffered -= n;
    if (this.drained && this.buffered < this.limit) {
      const drained = this.drained;
      this.drained = null;
      drained();
    }
    const first = this.chunks[0];
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (this.scratch.length < n) this.scratch = new Uint8Array(n);
    const out = this.scratch.subarray(0, n);
    for (let o = 0; o < n;) {
      const c = this.chunks[0],
        k = Math.min(c.length, n - o);
      out.set(c.subarray(0, k), o);
      o += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}
