// The hand-off stream's frame reader (origin/server/handoff-wire.ts) on chunkings a socket may give:
// frames split anywhere (inside a header, across several chunks) or several in one chunk read back
// whole and in order, and a stream cut inside a frame is an error, not a short frame. The reader reads
// ahead of its caller (a busy decode origin reaches the network once a step), up to its limit and no more.
import { describe, expect, it } from 'vitest';
import { FrameReader, frame } from '../../origin/server/handoff-wire';

const payloads = [3, 0, 70_000, 1, 150_000, 5].map((n, k) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 31 + k * 7) & 0xff),
);
const wire = (() => {
  const frames = payloads.map((p, k) => frame(k + 1, p));
  const out = new Uint8Array(frames.reduce((a, f) => a + f.length, 0));
  frames.reduce((o, f) => (out.set(f, o), o + f.length), 0);
  return out;
})();

/** The bytes in chunks of the given sizes, cycled; `pulled` counts the bytes handed out. */
function chunked(
  bytes: Uint8Array,
  sizes: number[],
  pulled = { bytes: 0 },
): ReadableStream<Uint8Array> {
  let o = 0,
    k = 0;
  return new ReadableStream(
    {
      pull(c) {
        if (o >= bytes.length) return c.close();
        const n = sizes[k++ % sizes.length];
        const chunk = bytes.slice(o, (o += n));
        pulled.bytes += chunk.length;
        c.enqueue(chunk);
      },
    },
    { highWaterMark: 0 }, // a chunk only when read: what the reader reads is what it asked for
  );
}

/** A few event-loop turns. */
const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/** Every frame, each payload copied: the reader's payload is valid until its next call. */
async function readAll(r: FrameReader) {
  const got: { kind: number; payload: Uint8Array }[] = [];
  for (let f = await r.next(); f; f = await r.next())
    got.push({ kind: f.kind, payload: f.payload.slice() });
  return got;
}

describe('FrameReader', () => {
  it.each([[[1, 2, 3, 7, 20_000]], [[4096]], [[65_536, 17]], [[wire.length]]])(
    'reads every frame whole in chunks of %j',
    async (sizes) => {
      const got = await readAll(new FrameReader(chunked(wire, sizes)));
      expect(got.map((f) => f.kind)).toEqual(payloads.map((_, k) => k + 1));
      got.forEach((f, k) => expect(Buffer.compare(f.payload, payloads[k])).toBe(0));
    },
  );

  it('throws on a stream cut inside a frame', async () => {
    const cut = wire.subarray(0, wire.length - 2);
    await expect(readAll(new FrameReader(chunked(cut, [1000])))).rejects.toThrow(/inside a frame/);
  });

  it('reads the stream ahead of its caller, to its end', async () => {
    const pulled = { bytes: 0 };
    const r = new FrameReader(chunked(wire, [4096], pulled));
    await turns();
    expect(pulled.bytes).toBe(wire.length); // no frame asked for yet
    const got = await readAll(r);
    expect(got.map((f) => f.kind)).toEqual(payloads.map((_, k) => k + 1));
  });

  it('holds at most its limit unread, and reads on as frames are taken', async () => {
    const pulled = { bytes: 0 };
    const limit = 200_000;
    const r = new FrameReader(chunked(wire, [10_000], pulled), limit);
    await turns();
    expect(pulled.bytes).toBeGreaterThanOrEqual(limit);
    expect(pulled.bytes).toBeLessThan(limit + 10_000);
    const got = await readAll(r);
    got.forEach((f, k) => expect(Buffer.compare(f.payload, payloads[k])).toBe(0));
    expect(pulled.bytes).toBe(wire.length);
  });

  it('refuses a frame longer than its limit rather than wait for it', async () => {
    const r = new FrameReader(chunked(wire, [4096]), 100_000);
    await expect(readAll(r)).rejects.toThrow(/150000 bytes is over/);
  });

  it('ends a pump waiting for room when cancelled', async () => {
    let cancelled = false;
    const source = chunked(wire, [10_000]);
    const reader = source.getReader();
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(c) {
          const { done, value } = await reader.read();
          if (done) c.close();
          else c.enqueue(value);
        },
        cancel: () => void (cancelled = true),
      },
      { highWaterMark: 0 },
    );
    const r = new FrameReader(body, 50_000);
    await turns();
    r.cancel();
    await turns();
    expect(cancelled).toBe(true);
    expect(await r.next()).toBeNull();
  });
});
