// A bump allocator over one WebAssembly.Memory, in two phases: reserve every region first (weights,
// caches, activations, scratch; data to copy in may be given), then finish() creates the memory at
// exactly that size and copies the data. The memory never grows afterwards, so typed views stay valid.

const PAGE = 65536;
export const pad16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

export class WasmArena {
  private top = 64; // address 0 stays unused: a 0 pointer is a bug, not a buffer
  private readonly copies: { at: number; data: ArrayBufferView }[] = [];
  private mem: WebAssembly.Memory | null = null;

  /** Reserves a 16-byte-aligned region; `data` (if any) is copied there by finish(). */
  alloc(bytes: number, data?: ArrayBufferView): number {
    if (this.mem) throw new Error('wasm arena: alloc() after finish()');
    const at = this.top;
    this.top = at + pad16(bytes);
    if (data) this.copies.push({ at, data });
    return at;
  }

  /** Creates the memory, sized to what was reserved, and copies the data in. */
  finish(): WebAssembly.Memory {
    const pages = Math.ceil(this.top / PAGE);
    if (pages > 65536)
      throw new RangeError(
        `the reference backend needs ${(this.top / 2 ** 30).toFixed(1)} GiB of wasm memory; wasm32 allows 4 GiB`,
      );
    this.mem = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const bytes = new Uint8Array(this.mem.buffer);
    for (const { at, data } of this.copies)
      bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    this.copies.length = 0;
    return this.mem;
  }

  get memory(): WebAssembly.Memory {
    if (!this.mem) throw new Error('wasm arena: memory used before finish()');
    return this.mem;
  }

  f64(ptr: number, n: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr, n);
  }

  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, n);
  }
}
