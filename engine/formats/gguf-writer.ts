// A minimal GGUF (v3) writer: typed key/values, tensor infos, aligned data. No npm package writes whole
// GGUF files (@huggingface/gguf serializes metadata only), and the tests and the llama.cpp benchmark
// need files with known contents. Also the Q8_0/Q4_0 block codecs shared with the GGUF importer.
import { f16ToF32, f32ArrayToF16 } from './f16';
import type { GroupQuantized } from './quant';

export const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
export const GGUF_ALIGNMENT = 32;

/** ggml tensor types this project reads and writes. */
export const GgmlType = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 8, BF16: 30 } as const;
export type GgmlTypeId = (typeof GgmlType)[keyof typeof GgmlType];

export type GgufValue =
  | { type: 'u32' | 'i32' | 'f32' | 'u64'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; of: 'string'; value: string[] }
  | { type: 'array'; of: 'f32' | 'i32' | 'u32'; value: ArrayLike<number> };

export interface GgufTensorInput {
  name: string;
  type: GgmlTypeId;
  /** ggml's ne: the fastest-varying dimension first ([cols, rows] for a matrix). */
  ne: number[];
  data: Uint8Array;
}

const VALUE_TYPE = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10 } as const;

class ByteWriter {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private room(n: number) {
    if (this.length + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    grown.set(this.buf);
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }
  u32(v: number) {
    this.room(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  i32(v: number) {
    this.room(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }
  u64(v: number) {
    this.room(8);
    this.view.setBigUint64(this.length, BigInt(v), true);
    this.length += 8;
  }
  f32(v: number) {
    this.room(4);
    this.view.setFloat32(this.length, v, true);
    this.length += 4;
  }
  u8(v: number) {
    this.room(1);
    this.buf[this.length++] = v;
  }
  bytes(b: Uint8Array) {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  string(s: string) {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  pad(alignment: number) {
    while (this.length % alignment) this.u8(0);
  }
  result() {
    return this.buf.slice(0, this.length);
  }
}

function writeValue(w: ByteWriter, v: GgufValue): void {
  switch (v.type) {
    case 'u32':
      return w.u32(v.value);
    case 'i32':
      return w.i32(v.value);
    case 'f32':
      return w.f32(v.value);
    case 'u64':
      return w.u64(v.value);
    case 'bool':
      return w.u8(v.value ? 1 : 0);
    case 'string':
      return w.string(v.value);
    case 'array': {
      w.u32(VALUE_TYPE[v.of]);
      w.u64(v.value.length);
      if (v.of === 'string') for (const s of v.value as string[]) w.string(s);
      else
        for (let i = 0; i < v.value.length; i++)
          (v.of === 'f32' ? w.f32 : v.of === 'i32' ? w.i32 : w.u32).call(
            w,
            (v.value as ArrayLike<number>)[i],
          );
    }
  }
}

export function writeGguf(
  kv: [string, GgufValue][],
  tensors: GgufTensorInput[],
  alignment = GGUF_ALIGNMENT,
): Uint8Array {
  const w = new ByteWriter();
  w.u32(GGUF_MAGIC);
  w.u32(3);
  w.u64(tensors.length);
  w.u64(kv.length);
  for (const [key, value] of kv) {
    w.string(key);
    w.u32(VALUE_TYPE[value.type]);
    writeValue(w, value);
  }
  let offset = 0;
  for (const t of tensors) {
    w.string(t.name);
    w.u32(t.ne.length);
    for (const d of t.ne) w.u64(d);
    w.u32(t.type);
    w.u64(offset);
    offset += Math.ceil(t.data.length / alignment) * alignment;
  }
  w.pad(alignment);
  for (const t of tensors) {
    w.bytes(t.data);
    w.pad(alignment);
  }
  return w.result();
}

const Q8_BLOCK = 34; // f16 d + 32 × i8
const Q4_BLOCK = 18; // f16 d + 16 bytes of nibbles

/** Planar codes + scales (our files, the kernels) → GGUF's interleaved blocks. */
export function toGgufBlocks(g: GroupQuantized, format: 'q8' | 'q4'): Uint8Array {
  const block = format === 'q8' ? Q8_BLOCK : Q4_BLOCK;
  const codes = block - 2;
  const out = new Uint8Array(g.scales.length * block);
  const view = new DataView(out.buffer);
  for (let b = 0; b < g.scales.length; b++) {
    view.setUint16(b * block, g.scales[b], true);
    out.set(g.q.subarray(b * codes, (b + 1) * codes), b * block + 2);
  }
  return out;
}

/** GGUF Q8_0/Q4_0 blocks → planar codes + scales (lossless). */
export function fromGgufBlocks(blocks: Uint8Array, format: 'q8' | 'q4'): GroupQuantized {
  const block = format === 'q8' ? Q8_BLOCK : Q4_BLOCK;
  const codes = block - 2;
  const n = blocks.length / block;
  const view = new DataView(blocks.buffer, blocks.byteOffset, blocks.byteLength);
  const q = new Uint8Array(n * codes);
  const scales = new Uint16Array(n);
  for (let b = 0; b < n; b++) {
    scales[b] = view.getUint16(b * block, true);
    q.set(blocks.subarray(b * block + 2, (b + 1) * block), b * codes);
  }
  return { q, scales };
}

/** F16 tensor bytes ↔ f32 values. */
export function f16Bytes(values: Float32Array): Uint8Array {
  return new Uint8Array(f32ArrayToF16(values).buffer);
}

export function f16Values(bytes: Uint8Array): Float32Array {
  const bits = new Uint16Array(new Uint8Array(bytes).buffer);
  return Float32Array.from(bits, f16ToF32);
}
