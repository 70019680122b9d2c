// Reads a safetensors file as a stream of chunks (an R2 object body, a file read stream) and hands
// each tensor's bytes to a sink as they arrive: the file is never held whole, so weights can go
// straight into WASM memory. Chunks may split tensors (and their elements) anywhere.
import { chunksOf, type ChunkSource } from './chunks';
import { parseSafetensorsHeader, SafetensorsError, type SafetensorsEntry } from './safetensors';

export interface TensorSink {
  /** Bytes [at, at + bytes.length) of the tensor, in order; `bytes` is only valid during the call. */
  write(bytes: Uint8Array, at: number): void;
  /** After the tensor's last byte. */
  end?(): void;
}

export type { ChunkSource } from './chunks';

/**
 * Streams `source` through the sinks `plan` returns for the header's entries (a tensor without a
 * sink is skipped). Throws when the stream ends early or runs past the header's data.
 */
export async function streamSafetensors(
  source: ChunkSource,
  plan: (entries: SafetensorsEntry[], metadata: Record<string, string>) => Map<string, TensorSink>,
): Promise<SafetensorsEntry[]> {
  let head: Uint8Array = new Uint8Array(0);
  let entries: SafetensorsEntry[] | null = null;
  let sinks = new Map<string, TensorSink>();
  let dataAt = 0; // bytes of the data section consumed
  let index = 0; // the entry dataAt is in
  const total = () => (entries!.length ? entries![entries!.length - 1].offsets[1] : 0);

  const feed = (chunk: Uint8Array) => {
    let at = 0;
    while (at < chunk.length) {
      if (index >= entries!.length)
        throw new SafetensorsError(`stream runs past the header's ${total()} data bytes`);
      const e = entries![index];
      const take = Math.min(chunk.length - at, e.offsets[1] - dataAt);
      sinks.get(e.name)?.write(chunk.subarray(at, at + take), dataAt - e.offsets[0]);
      at += take;
      dataAt += take;
      if (dataAt === e.offsets[1]) {
        sinks.get(e.name)?.end?.();
        index++;
      }
    }
  };

  for await (const chunk of chunksOf(source)) {
    if (entries) {
      feed(chunk);
      continue;
    }
    head = concat(head, chunk);
    if (head.length < 8) continue;
    const n = Number(new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true));
    if (n > 100 * 1024 * 1024)
      throw new SafetensorsError(`header length ${n} exceeds the 100 MB cap`);
    if (head.length < 8 + n) continue;
    const parsed = parseSafetensorsHeader(head.subarray(8, 8 + n));
    entries = parsed.entries;
    sinks = plan(entries, parsed.metadata);
    // zero-byte tensors end before any data arrives
    while (index < entries.length && entries[index].offsets[1] === 0)
      sinks.get(entries[index++].name)?.end?.();
    const rest = head.subarray(8 + n);
    head = new Uint8Array(0);
    feed(rest);
  }
  if (!entries) throw new SafetensorsError('stream ended inside the header');
  if (dataAt !== total())
    throw new SafetensorsError(`stream ended after ${dataAt} of ${total()} data bytes`);
  return entries;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** A whole file as one chunk (Node tests, files already in memory). */
export async function* oneChunk(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
