// A bump allocator over one WebAssembly.Memory: the reference backend lays out weights, activations
// and scratch in it once, at start (the memory never grows afterwards, so typed views stay valid).

const PAGE = 65536;

export class WasmArena {
  readonly memory: WebAssembly.Memory;
  private top = 64; // address 0 stays unused: a 0 pointer is a bug, not a buffer

  constructor(bytes: number) {
    const pages = Math.ceil((bytes + 64) / PAGE);
    if (pages > 65536) throw new RangeError(`the reference backend needs ${(bytes / 2 ** 30).toFixed(1)} GiB of wasm memory; wasm32 allows 4 GiB`);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  }

  /** A 16-byte-aligned region of `bytes`; throws when the arena was sized too small. */
  alloc(bytes: number): number {
    const at = this.top;
    this.top = at + Math.ceil(bytes / 16) * 16;
    if (this.top > this.memory.buffer.byteLength) throw new RangeError(`wasm arena overflow: ${this.top} > ${this.memory.buffer.byteLength} bytes`);
    return at;
  }

  f64(n: number): { ptr: number; view: Float64Array } {
    const ptr = this.alloc(n * 8);
    return { ptr, view: new Float64Array(this.memory.buffer, ptr, n) };
  }

  f32(n: number): { ptr: number; view: Float32Array } {
    const ptr = this.alloc(n * 4);
    return { ptr, view: new Float32Array(this.memory.buffer, ptr, n) };
  }

  u8(n: number): { ptr: number; view: Uint8Array } {
    const ptr = this.alloc(n);
    return { ptr, view: new Uint8Array(this.memory.buffer, ptr, n) };
  }
}

/** Bytes an arena needs for these regions (each rounded up to 16). */
export function arenaBytes(sizes: number[]): number {
  return sizes.reduce((sum, b) => sum + Math.ceil(b / 16) * 16, 64);
}
