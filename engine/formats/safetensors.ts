// Safetensors reader and writer over plain bytes (Uint8Array), for workerd, Node and the browser alike.
//
// Format: u64 little-endian header length N, then N bytes of JSON
// `{ "__metadata__"?: {str: str}, name: { dtype, shape, data_offsets: [begin, end] } }`, then the data
// section; offsets are relative to the data section, which tensors cover with no holes or overlaps.
//
// Hand-written on purpose: on npm, `safetensors` is a 0.0.1 placeholder, and `@huggingface/hub` only
// parses headers of files on the Hub through fetch (no reading from bytes, no writing). The format is
// small and fully specified, so a reader that makes zero-copy views is shorter than an adapter.

import { f16ToF32 } from './f16';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'F8_E4M3' | 'I8' | 'U8' | 'I32';

const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  F8_E4M3: 1,
  I8: 1,
  U8: 1,
  I32: 4,
};
const MAX_HEADER_BYTES = 100 * 1024 * 1024; // the reference implementation's own cap

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
}

/** One tensor of a file: `bytes` is a view into the file's buffer (no copy). */
export interface TensorView {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Map<string, TensorView>;
}

/** A tensor to write: raw little-endian bytes, or a typed array matching the dtype's width. */
export interface TensorInput {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Uint8Array | Int8Array | Float32Array | Int32Array | Uint16Array;
}

export function dtypeBytes(dtype: SafetensorsDtype): number {
  return DTYPE_BYTES[dtype];
}

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Parses the header and returns views of every tensor; validates offsets, sizes and coverage. */
export function readSafetensors(file: Uint8Array): SafetensorsFile {
  if (file.byteLength < 8)
    throw new SafetensorsError(`file too short (${file.byteLength} bytes) for a header length`);
  const headerLen = new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true);
  if (headerLen > BigInt(Math.min(MAX_HEADER_BYTES, file.byteLength - 8))) {
    throw new SafetensorsError(
      `header length ${headerLen} exceeds the file (${file.byteLength} bytes) or the 100 MB cap`,
    );
  }
  const n = Number(headerLen);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(8, 8 + n)));
  } catch (err) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON: ${String(err)}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw new SafetensorsError('header is not a JSON object');

  const data = file.subarray(8 + n);
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const tensors = new Map<string, TensorView>();
  const spans: Array<[number, number, string]> = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const t = parseEntry(name, raw);
    const [begin, end] = t.offsets;
    if (end > data.byteLength)
      throw new SafetensorsError(
        `${name}: data_offsets [${begin}, ${end}] run past the data section (${data.byteLength} bytes)`,
      );
    spans.push([begin, end, name]);
    tensors.set(name, { name, dtype: t.dtype, shape: t.shape, bytes: data.subarray(begin, end) });
  }
  checkCoverage(spans, data.byteLength);
  return { metadata, tensors };
}

export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** [begin, end) in the data section. */
  offsets: [number, number];
}

/**
 * Parses the header JSON alone (the bytes after the u64 length), for readers that stream the data
 * section instead of holding the file. Entries come sorted by offset; coverage is checked against
 * `dataBytes` when given.
 */
export function parseSafetensorsHeader(
  json: Uint8Array,
  dataBytes?: number,
): { metadata: Record<string, string>; entries: SafetensorsEntry[] } {
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (err) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON: ${String(err)}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw new SafetensorsError('header is not a JSON object');
  const entries = Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, raw]) => ({ name, ...parseEntry(name, raw) }));
  entries.sort((a, b) => a.offsets[0] - b.offsets[0]);
  const end = entries.reduce((at, e) => {
    if (e.offsets[0] !== at)
      throw new SafetensorsError(
        `${e.name}: starts at ${e.offsets[0]}, expected ${at} (tensors must tile the data section)`,
      );
    return e.offsets[1];
  }, 0);
  if (dataBytes !== undefined && end !== dataBytes)
    throw new SafetensorsError(`data section has ${dataBytes} bytes, the header covers ${end}`);
  return { metadata: (header.__metadata__ ?? {}) as Record<string, string>, entries };
}

function parseEntry(
  name: string,
  raw: unknown,
): { dtype: SafetensorsDtype; shape: number[]; offsets: [number, number] } {
  const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof e !== 'object' || e === null)
    throw new SafetensorsError(`${name}: entry is not an object`);
  if (typeof e.dtype !== 'string' || !(e.dtype in DTYPE_BYTES)) {
    throw new SafetensorsError(
      `${name}: unsupported dtype ${JSON.stringify(e.dtype)} (supported: ${Object.keys(DTYPE_BYTES).join(', ')})`,
    );
  }
  const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!Array.isArray(e.shape) || !e.shape.every(isCount))
    throw new SafetensorsError(`${name}: bad shape ${JSON.stringify(e.shape)}`);
  const off = e.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !off.every(isCount) || off[0] > off[1]) {
    throw new SafetensorsError(`${name}: bad data_offsets ${JSON.stringify(off)}`);
  }
  const dtype = e.dtype as SafetensorsDtype;
  const shape = e.shape as number[];
  const want = numel(shape) * DTYPE_BYTES[dtype];
  if (off[1] - off[0] !== want)
    throw new SafetensorsError(
      `${name}: ${off[1] - off[0]} bytes for ${dtype}[${shape.join(',')}] (want ${want})`,
    );
  return { dtype, shape, offsets: [off[0], off[1]] };
}

function checkCoverage(spans: Array<[number, number, string]>, total: number): void {
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let at = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== at)
      throw new SafetensorsError(
        `${name}: starts at ${begin}, expected ${at} (tensors must tile the data section)`,
      );
    at = end;
  }
  if (at !== total)
    throw new SafetensorsError(
      `data section has ${total - at} trailing bytes not owned by any tensor`,
    );
}

/**
 * Serializes named tensors. Tensors are laid out widest dtype first (then by name), as the reference
 * writer does, so every 4-byte tensor starts 4-aligned and readers can view F32 data without copying.
 */
export function writeSafetensors(
  tensors: Record<string, TensorInput>,
  metadata?: Record<string, string>,
): Uint8Array {
  const names = Object.keys(tensors).sort(
    (a, b) =>
      DTYPE_BYTES[tensors[b].dtype] - DTYPE_BYTES[tensors[a].dtype] || (a < b ? -1 : a > b ? 1 : 0),
  );
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const name of names) {
    const t = tensors[name];
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const want = numel(t.shape) * DTYPE_BYTES[t.dtype];
    if (bytes.byteLength !== want)
      throw new SafetensorsError(
        `${name}: ${bytes.byteLength} bytes given for ${t.dtype}[${t.shape.join(',')}] (want ${want})`,
      );
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + want] };
    parts.push(bytes);
    offset += want;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8; // spaces keep the data section 8-aligned
  if (padded !== json.byteLength) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let at = 8 + json.byteLength;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

// ---- float conversions (little-endian platforms: every JS engine the project targets) ----

/** bfloat16 bits → float32 bits of the same value (bf16 is the top half of an f32). */
export function bf16ToF32(bits: ArrayLike<number>): Float32Array {
  const u = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) u[i] = bits[i] << 16;
  return new Float32Array(u.buffer);
}

/** float32 → bfloat16 bits, round to nearest even; NaN stays a quiet NaN. */
export function f32ToBf16(values: ArrayLike<number>): Uint16Array {
  const u = new Uint32Array(Float32Array.from(values).buffer);
  const out = new Uint16Array(u.length);
  for (let i = 0; i < u.length; i++) {
    const x = u[i];
    const isNaN = (x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0;
    out[i] = isNaN
      ? ((x >>> 16) | 0x40) & 0xffff
      : ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return out;
}

/** Encodes values as a BF16 tensor's bytes. */
export function bf16Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(f32ToBf16(values).buffer);
}

/**
 * Widens a float or integer tensor to Float32Array (a zero-copy view for aligned F32). F8_E4M3 is
 * refused: its values mean nothing without their block scales (see engine/formats/fp8.ts).
 */
/**
 * A fresh, exactly-sized copy. Not `bytes.slice()`: on a Node Buffer, slice() is a view into a shared
 * pool, so its `.buffer` holds other data.
 */
const copyBytes = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);

export function tensorToFloat32(t: TensorView): Float32Array {
  const b = t.bytes;
  const n = b.byteLength / DTYPE_BYTES[t.dtype];
  switch (t.dtype) {
    case 'F32':
      return b.byteOffset % 4 === 0
        ? new Float32Array(b.buffer, b.byteOffset, n)
        : new Float32Array(copyBytes(b).buffer);
    case 'I32': {
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      return Float32Array.from({ length: n }, (_, i) => dv.getInt32(i * 4, true));
    }
    case 'F16':
    case 'BF16': {
      const bits = new Uint16Array(copyBytes(b).buffer);
      return t.dtype === 'BF16' ? bf16ToF32(bits) : Float32Array.from(bits, f16ToF32);
    }
    case 'I8':
      return Float32Array.from(new Int8Array(b.buffer, b.byteOffset, n));
    case 'U8':
      return Float32Array.from(b);
    case 'F8_E4M3':
      throw new SafetensorsError(
        `${t.name}: F8_E4M3 needs its weight_scale_inv; dequantize with engine/formats/fp8.ts`,
      );
  }
}
