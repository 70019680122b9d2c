// Tensor sinks that write streamed safetensors bytes into backend memory: a plain copy (file layout =
// memory layout), a widening one (F16/BF16 → f32), and a buffering one for tensors that need their
// companion first (dequantizing fallback). Rows may be moved on the way (RoPE order, see hf-tensors.ts).
import type { KernelBackend } from '../../kernels-wasm/types';
import { f16Table } from './f16';
import { bf16ToF32, type SafetensorsDtype } from './safetensors';
import type { TensorSink } from './safetensors-stream';

/** A byte view of backend memory (the WASM backend has bytes(); the TS one is viewed through f32). */
export function byteView(k: KernelBackend, ptr: number, len: number): Uint8Array {
  if (k.bytes) return k.bytes(ptr, len);
  if (ptr % 4 !== 0) throw new Error(`unaligned byte view at ${ptr} on a backend without bytes()`);
  const f = k.f32(ptr, Math.ceil(len / 4));
  return new Uint8Array(f.buffer, f.byteOffset, len);
}

export type RowMap = (row: number) => number;

/** Copies the bytes to dst; with rowOf, source row r (rowBytes long) lands at row rowOf(r). */
export function copySink(
  k: KernelBackend,
  dst: number,
  rowBytes: number,
  rowOf?: RowMap,
): TensorSink {
  return {
    write(bytes, at) {
      if (!rowOf) {
        byteView(k, dst + at, bytes.length).set(bytes);
        return;
      }
      for (let i = 0; i < bytes.length;) {
        const pos = at + i;
        const row = Math.floor(pos / rowBytes),
          within = pos - row * rowBytes;
        const n = Math.min(bytes.length - i, rowBytes - within);
        byteView(k, dst + rowOf(row) * rowBytes + within, n).set(bytes.subarray(i, i + n));
        i += n;
      }
    },
  };
}

/** Widens F16/BF16 (or copies F32) into f32 at dst; `cols` values per row for rowOf. */
export function floatSink(
  k: KernelBackend,
  dtype: SafetensorsDtype,
  dst: number,
  cols: number,
  rowOf?: RowMap,
): TensorSink {
  if (dtype === 'F32') return copySink(k, dst, cols * 4, rowOf);
  if (dtype !== 'F16' && dtype !== 'BF16') throw new Error(`cannot widen ${dtype} to f32`);
  const table = dtype === 'F16' ? f16Table() : null;
  let carry = -1; // a low byte waiting for its high byte
  let element = 0;
  const put = (bits: number) => {
    const value = table ? table[bits] : bf16ToF32([bits])[0];
    const row = Math.floor(element / cols);
    const index = rowOf ? rowOf(row) * cols + (element - row * cols) : element;
    k.f32(dst + index * 4, 1)[0] = value;
    element++;
  };
  return {
    write(bytes) {
      let i = 0;
      if (carry >= 0 && bytes.length > 0) {
        put(carry | (bytes[0] << 8));
        carry = -1;
        i = 1;
      }
      const pairs = (bytes.length - i) >> 1;
      if (!rowOf && table && pairs > 0) {
        // the common case in bulk: one view, a table lookup per element
        const out = k.f32(dst + element * 4, pairs);
        for (let j = 0; j < pairs; j++)
          out[j] = table[bytes[i + 2 * j] | (bytes[i + 2 * j + 1] << 8)];
        element += pairs;
        i += 2 * pairs;
      }
      for (; i + 1 < bytes.length; i += 2) put(bytes[i] | (bytes[i + 1] << 8));
      if (i < bytes.length) carry = bytes[i];
    },
  };
}

/** Collects the tensor in host memory and hands it over at its end. */
export function bufferSink(byteLength: number, done: (bytes: Uint8Array) => void): TensorSink {
  const buffer = new Uint8Array(byteLength);
  return {
    write: (bytes, at) => buffer.set(bytes, at),
    end: () => done(buffer),
  };
}
