// Room: engine/formats. A byte stream (an R2 object body, a file read stream) as the chunks the
// weight loaders consume. A byte stream is read through a BYOB reader in pieces of a MiB: Miniflare's
// R2 body hands out 4 KiB chunks, and at ~26,000 of them per 100 MB model the per-chunk promise
// round trips were most of a cold start (bench/cold-start.ts).

export type ChunkSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** Bytes asked of each BYOB read (the read waits until that many arrived, or the stream ended). */
export const READ_BYTES = 1 << 20;

/**
 * The chunks of `source`, in order. A chunk is valid only until the next one is asked for (BYOB
 * reads reuse one buffer): consumers copy what they keep.
 */
export async function* chunksOf(
  source: ChunkSource,
  size = READ_BYTES,
): AsyncGenerator<Uint8Array> {
  if (!('getReader' in source)) {
    yield* source;
    return;
  }
  const byob = byobReader(source);
  if (byob) {
    yield* readLarge(byob, size);
    return;
  }
  const reader = source.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Null for a stream that is not a byte stream (it has only the default reader). */
function byobReader(source: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | null {
  try {
    return source.getReader({ mode: 'byob' });
  } catch {
    return null;
  }
}

/** `min` (WHATWG Streams, in workerd; not yet in TypeScript's DOM types): wait for that many bytes. */
type MinReader = {
  read(view: Uint8Array, opts: { min: number }): Promise<ReadableStreamReadResult<Uint8Array>>;
};

async function* readLarge(
  reader: ReadableStreamBYOBReader,
  size: number,
): AsyncGenerator<Uint8Array> {
  let buffer = new ArrayBuffer(size);
  try {
    for (;;) {
      const { done, value } = await (reader as MinReader).read(new Uint8Array(buffer), {
        min: size,
      });
      if (value?.byteLength) yield value;
      if (done || !value) return;
      buffer = value.buffer as ArrayBuffer;
    }
  } finally {
    reader.releaseLock();
  }
}
