// The hand-off stream's frame reader (origin/server/handoff-wire.ts) on chunkings a socket may give:
// frames split anywhere (inside a header, across several chunks) or several in one chunk read back
// whole and in order, and a stream cut inside a frame is an error, not a short frame.
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

/** The bytes in chunks of the given sizes, cycled. */
function chunked(bytes: Uint8Array, sizes: number[]): ReadableStream<Uint8Array> {
  let o = 0,
    k = 0;
  return new ReadableStream({
    pull(c) {
      if (o >= bytes.length) return c.close();
      const n = sizes[k++ % sizes.length];
      c.enqueue(bytes.slice(o, (o += n)));
    },
  });
}

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
});
