// engine/formats/chunks.ts: a byte stream read through a BYOB reader in large pieces, any other
// stream or iterable as it comes; either way the same bytes in order, and a consumer that copies each
// chunk before asking for the next gets the file whole.
import { describe, expect, it } from 'vitest';
import { chunksOf } from '../../../engine/formats/chunks';

const FILE = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 131 + 7) & 0xff);

/** FILE in 4 KiB pieces, as a byte stream (BYOB-readable) or a default one. */
function stream(type?: 'bytes'): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    type,
    pull(c) {
      if (at >= FILE.length) {
        c.close();
        // a byte source closing under a pending BYOB read must release it (WHATWG Streams)
        (c as ReadableByteStreamController).byobRequest?.respond(0);
        return;
      }
      c.enqueue(FILE.slice(at, at + 4096));
      at += 4096;
    },
  } as UnderlyingDefaultSource<Uint8Array>);
}

async function collect(source: Parameters<typeof chunksOf>[0], size?: number) {
  const bytes = new Uint8Array(FILE.length);
  const sizes: number[] = [];
  let at = 0;
  for await (const chunk of chunksOf(source, size)) {
    bytes.set(chunk, at);
    at += chunk.length;
    sizes.push(chunk.length);
  }
  return { bytes: bytes.subarray(0, at), sizes };
}

describe('chunksOf', () => {
  it(
    'reads a byte stream in pieces of at most `size`, the bytes whole and in order',
    { timeout: 10_000 },
    async () => {
      const { bytes, sizes } = await collect(stream('bytes'), 30_000);
      expect(bytes).toEqual(FILE);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(30_000);
    },
  );

  it('reads a default stream and an async iterable as they come', async () => {
    expect((await collect(stream())).bytes).toEqual(FILE);
    const { bytes, sizes } = await collect(
      (async function* () {
        yield FILE.subarray(0, 10);
        yield FILE.subarray(10);
      })(),
    );
    expect(bytes).toEqual(FILE);
    expect(sizes).toEqual([10, FILE.length - 10]);
  });
});
