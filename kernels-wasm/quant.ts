// Quantized weight formats of the WASM kernels, TS side: quantizers with GGUF's reference semantics,
// dequantizers (the float math the kernels must match), scratch sizes, and upload into a backend's memory.
//
// Layouts in WASM memory, K = cols rounded up to a multiple of 32 (each row zero-padded; GGUF rows are
// already multiples of 32, so real tensors copy unchanged):
// - Q8_0: codes i8 [rows, K]; d f16 [rows, K/32]. w = q · d.
// - Q4_0: codes u8 [rows, K/2], per 32-block 16 bytes, byte j = element j (low nibble) | element j+16
//   (high nibble) as in GGUF; d f16 [rows, K/32]. w = (nibble - 8) · d.
// - FP8: E4M3 codes u8 [rows, cols] unpadded, f32 scale_inv [ceil(rows/br), ceil(cols/bc)] (DeepSeek-V3).
// Scales are f16 (GGUF's and DESIGN.md's on-disk type): planar, not interleaved with the codes, so the codes
// stream 16-byte aligned; the kernels widen an f16 with two integer ops and one multiply per 32 weights.
import { f16ToF32, f32ToF16 } from '../engine/formats/f16';
import type { KernelBackend } from './types';

export const QK = 32;

export interface QuantWeight {
  kind: 'q8_0' | 'q4_0';
  rows: number;
  cols: number;
  /** Codes, [rows, K] (q8_0, as i8 bytes) or [rows, K/2] (q4_0). */
  q: Uint8Array;
  /** f16 bits [rows, K/32]. */
  d: Uint16Array;
}

export function paddedCols(cols: number): number {
  return Math.ceil(cols / QK) * QK;
}

/** Bytes of the int8 activation scratch `xq` for n tokens of cols (quant-common.ts layout). */
export function quantScratchBytes(cols: number, n = 1): number {
  const k = paddedCols(cols);
  return n * (2 * k + (k / QK) * 8);
}

/** Scratch bytes of packQ4x8 (kernels-wasm/types.ts) for a matrix of `cols` columns: one group's codes and scales. */
export function q4x8ScratchBytes(cols: number): number {
  return 8 * (paddedCols(cols) / QK) * 18;
}

/** C's roundf: half away from zero. */
const roundAway = (v: number) => Math.sign(v) * Math.floor(Math.abs(v) + 0.5);

/** GGUF Q8_0 (llama.cpp quantize_row_q8_0_ref): d = amax/127 stored as f16, q = roundf(x · (1/d)) with the f32 d. */
export function quantizeQ8_0(w: ArrayLike<number>, rows: number, cols: number): QuantWeight {
  const k = paddedCols(cols),
    nb = k / QK,
    fr = Math.fround;
  const q = new Int8Array(rows * k),
    d = new Uint16Array(rows * nb);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < nb; b++) {
      const c0 = b * QK,
        c1 = Math.min(cols, c0 + QK);
      let amax = 0;
      for (let c = c0; c < c1; c++) amax = Math.max(amax, Math.abs(fr(w[r * cols + c])));
      const db = fr(amax / 127),
        id = db ? fr(1 / db) : 0;
      d[r * nb + b] = f32ToF16(db);
      for (let c = c0; c < c1; c++) q[r * k + c] = roundAway(fr(fr(w[r * cols + c]) * id));
    }
  }
  return { kind: 'q8_0', rows, cols, q: new Uint8Array(q.buffer), d };
}

/**
 * GGUF Q4_0 (llama.cpp quantize_row_q4_0_ref): the value of largest magnitude maps to -8, d = max / -8
 * stored as f16, nibble = min(15, trunc(x · (1/d) + 8.5)) with the f32 d.
 */
export function quantizeQ4_0(w: ArrayLike<number>, rows: number, cols: number): QuantWeight {
  const k = paddedCols(cols),
    nb = k / QK,
    fr = Math.fround;
  const q = new Uint8Array(rows * (k / 2)),
    d = new Uint16Array(rows * nb);
  const at = (r: number, c: number) => (c < cols ? fr(w[r * cols + c]) : 0);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < nb; b++) {
      let amax = 0,
        max = 0;
      for (let j = 0; j < QK; j++) {
        const v = at(r, b * QK + j);
        if (amax < Math.abs(v)) [amax, max] = [Math.abs(v), v];
      }
      const db = fr(max / -8),
        id = db ? fr(1 / db) : 0;
      d[r * nb + b] = f32ToF16(db);
      const nib = (v: number) => Math.min(15, Math.trunc(fr(fr(v * id) + 8.5)));
      for (let j = 0; j < QK / 2; j++) {
        q[r * (k / 2) + b * 16 + j] = nib(at(r, b * QK + j)) | (nib(at(r, b * QK + j + 16)) << 4);
      }
    }
  }
  return { kind: 'q4_0', rows, cols, q, d };
}

/** w[r, c] = code · f16(d), exactly (f64); the padding is dropped. */
export function dequantize(wq: QuantWeight): Float64Array {
  const { rows, cols } = wq,
    k = paddedCols(cols),
    nb = k / QK;
  const out = new Float64Array(rows * cols);
  const codes = new Int8Array(wq.q.buffer, wq.q.byteOffset, wq.q.byteLength);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const b = Math.floor(c / QK),
        j = c % QK;
      const code =
        wq.kind === 'q8_0'
          ? codes[r * k + c]
          : ((wq.q[r * (k / 2) + b * 16 + (j & 15)] >> (j & 16 ? 4 : 0)) & 15) - 8;
      out[r * cols + c] = code * f16ToF32(wq.d[r * nb + b]);
    }
  }
  return out;
}

/**
 * The kernels' activation quantization, in TS (for exact references): per 32-block d = f32(amax/127),
 * q = nearest-even(f32(x · f32(1/d))); returns codes in natural order [cols] and d [K/32].
 */
export function quantizeActivations(
  x: ArrayLike<number>,
  cols: number,
): { q: Int16Array; d: Float32Array } {
  const nb = paddedCols(cols) / QK,
    fr = Math.fround;
  const q = new Int16Array(cols),
    d = new Float32Array(nb);
  for (let b = 0; b < nb; b++) {
    const c0 = b * QK,
      c1 = Math.min(cols, c0 + QK);
    let amax = 0;
    for (let c = c0; c < c1; c++) amax = Math.max(amax, Math.abs(fr(x[c])));
    const db = fr(amax / 127),
      id = db ? fr(1 / db) : 0;
    d[b] = db;
    for (let c = c0; c < c1; c++) {
      const v = fr(fr(x[c]) * id),
        f = Math.floor(v);
      q[c] = v - f > 0.5 || (v - f === 0.5 && f % 2 !== 0) ? f + 1 : f;
    }
  }
  return { q, d };
}

/** A quantized matrix in a backend's memory: pointers to its codes and scales. */
export interface QuantWeightPtrs {
  kind: 'q8_0' | 'q4_0';
  rows: number;
  cols: number;
  w: number;
  d: number;
}

/** Byte pointer to a copy of bytes in the backend's arena. */
export function uploadBytes(backend: KernelBackend, bytes: Uint8Array): number {
  if (!backend.bytes)
    throw new Error('backend has no byte views (quantized weights need the WASM backend)');
  const ptr = backend.alloc(Math.ceil(bytes.byteLength / 4));
  backend.bytes(ptr, bytes.byteLength).set(bytes);
  return ptr;
}

export function uploadQuant(backend: KernelBackend, wq: QuantWeight): QuantWeightPtrs {
  const w = uploadBytes(backend, wq.q);
  const d = uploadBytes(backend, new Uint8Array(wq.d.buffer, wq.d.byteOffset, wq.d.byteLength));
  return { kind: wq.kind, rows: wq.rows, cols: wq.cols, w, d };
}
