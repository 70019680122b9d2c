// The edge-native weights file (`model.edge`, docs/models.md "Edge-native weights"): an image of the
// weights exactly as the WASM kernels read them, so a cold isolate copies bytes from the R2 stream
// straight to their final place in WASM memory with no conversion. This file is the codec: the fixed
// prefix, the JSON header (checked before anything is allocated) and the data checksum.
//
//   0   8 bytes  magic "EDGENATV"
//   8   u32 LE   version (1)
//   12  u32 LE   header length H (a multiple of 16; the JSON is padded with spaces)
//   16  u32 LE   checksum of the header bytes (wordHash, lane a)
//   20  u32 LE   0
//   24  H bytes  header JSON (NativeHeader)
//   D = align64(24 + H): the data section, data_bytes long; every tensor at a 16-aligned offset
import { z } from 'zod';

export const NATIVE_MAGIC = 'EDGENATV';
export const NATIVE_VERSION = 1;
export const NATIVE_PREFIX_BYTES = 24;
export const NATIVE_ALIGN = 16;
const MAX_HEADER_BYTES = 16 * 2 ** 20;

/** Thrown on a file this reader cannot take: `stage` says whether WASM memory was touched yet. */
export class NativeFormatError extends Error {
  override name = 'NativeFormatError';
  constructor(
    message: string,
    /** 'header': nothing allocated (a caller can fall back); 'data': the bytes in memory are bad. */
    readonly stage: 'header' | 'data',
  ) {
    super(message);
  }
}

const tensor = z.object({
  /** The tensor's HF name (engine/formats/hf-tensors.ts), which says its slot, layer and shape. */
  name: z.string(),
  format: z.enum(['f32', 'q8', 'q4', 'q4x8', 'fp8']),
  rows: z.number().int().positive(),
  cols: z.number().int().positive(),
  /** Byte offsets in the data section (scales: 0 for f32). */
  data: z.number().int().nonnegative(),
  scales: z.number().int().nonnegative(),
});

export const nativeHeader = z.object({
  format: z.literal('edge-native'),
  arch: z.literal('llama'),
  /** The shape the tensors were laid out for (compared with config.json's before loading). */
  shape: z.object({
    dim: z.number().int(),
    hiddenDim: z.number().int(),
    nLayers: z.number().int(),
    nHeads: z.number().int(),
    nKvHeads: z.number().int(),
    headDim: z.number().int(),
    vocabSize: z.number().int(),
    sharedClassifier: z.boolean(),
    qkvBias: z.boolean(),
  }),
  data_bytes: z.number().int().nonnegative(),
  /** wordHash of the data section: four u32 lanes, hex. */
  data_hash: z.string().regex(/^[0-9a-f]{32}$/),
  tensors: z.array(tensor),
});
export type NativeHeader = z.infer<typeof nativeHeader>;
export type NativeTensor = z.infer<typeof tensor>;
export type NativeShape = NativeHeader['shape'];

export const alignUp = (n: number, to: number) => Math.ceil(n / to) * to;

/** Bytes of a matrix's codes and scales in backend memory (engine/llama/forward.ts's DeviceMatrix). */
export function matrixBytes(format: NativeTensor['format'], rows: number, cols: number) {
  const n = rows * cols;
  if (format === 'f32') return { data: n * 4, scales: 0 };
  if (format === 'fp8')
    return { data: n, scales: Math.ceil(rows / 128) * Math.ceil(cols / 128) * 4 };
  return { data: format === 'q8' ? n : n / 2, scales: (n / 32) * 2 }; // q4 and q4x8 alike
}

/**
 * A checksum of 16-byte blocks fed in order (chunk boundaries anywhere, as long as each update is
 * whole blocks): four independent lanes of xor-multiply-rotate, one per u32 of a block. Each step is
 * a bijection of the lane and of the word, so any one changed word changes the digest. Not a
 * cryptographic digest: R2 checks MD5 on upload; this catches a damaged or mixed-up file.
 */
export class WordHash {
  private a = 0x9e3779b1;
  private b = 0x85ebca77;
  private c = 0xc2b2ae3d;
  private d = 0x27d4eb2f;

  update(w: Uint32Array): void {
    if (w.length % 4) throw new RangeError('wordHash takes whole 16-byte blocks');
    let { a, b, c, d } = this;
    for (let i = 0; i < w.length; i += 4) {
      a = Math.imul(a ^ w[i], 0x85ebca6b);
      b = Math.imul(b ^ w[i + 1], 0xc2b2ae35);
      c = Math.imul(c ^ w[i + 2], 0x27d4eb2d);
      d = Math.imul(d ^ w[i + 3], 0x165667b1);
      a = (a << 13) | (a >>> 19);
      b = (b << 17) | (b >>> 15);
      c = (c << 11) | (c >>> 21);
      d = (d << 7) | (d >>> 25);
    }
    Object.assign(this, { a, b, c, d });
  }

  hex(): string {
    return [this.a, this.b, this.c, this.d]
      .map((x) => (x >>> 0).toString(16).padStart(8, '0'))
      .join('');
  }

  lane(): number {
    return this.a >>> 0;
  }
}

const words = (bytes: Uint8Array) =>
  new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);

/** The prefix and header of a file whose data section is described by `header` (a copy-free start). */
export function encodeNativeHead(header: NativeHeader): Uint8Array {
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = new Uint8Array(alignUp(json.length, NATIVE_ALIGN)).fill(0x20);
  padded.set(json);
  json = padded;
  const out = new Uint8Array(alignUp(NATIVE_PREFIX_BYTES + json.length, 64));
  out.set(new TextEncoder().encode(NATIVE_MAGIC));
  const view = new DataView(out.buffer);
  const hash = new WordHash();
  hash.update(words(json));
  view.setUint32(8, NATIVE_VERSION, true);
  view.setUint32(12, json.length, true);
  view.setUint32(16, hash.lane(), true);
  out.set(json, NATIVE_PREFIX_BYTES);
  return out;
}

/**
 * Reads the prefix and header from the file's first bytes: null while more bytes are needed, else
 * the header and where the data section starts. Throws NativeFormatError('header') on anything off.
 */
export function decodeNativeHead(
  head: Uint8Array,
): { header: NativeHeader; dataStart: number } | null {
  const fail = (why: string) => new NativeFormatError(`edge-native file: ${why}`, 'header');
  if (head.length < NATIVE_PREFIX_BYTES) return null;
  if (new TextDecoder().decode(head.subarray(0, 8)) !== NATIVE_MAGIC)
    throw fail('bad magic (not a model.edge file)');
  const view = new DataView(head.buffer, head.byteOffset, NATIVE_PREFIX_BYTES);
  const version = view.getUint32(8, true);
  if (version !== NATIVE_VERSION)
    throw fail(`version ${version}; this reader knows version ${NATIVE_VERSION}`);
  const length = view.getUint32(12, true);
  if (length % NATIVE_ALIGN || length > MAX_HEADER_BYTES)
    throw fail(`header length ${length} is not a multiple of 16 under 16 MiB`);
  if (head.length < NATIVE_PREFIX_BYTES + length) return null;
  const json = head.slice(NATIVE_PREFIX_BYTES, NATIVE_PREFIX_BYTES + length);
  const hash = new WordHash();
  hash.update(words(json));
  if (hash.lane() !== view.getUint32(16, true)) throw fail('header checksum mismatch (damaged)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (err) {
    throw fail(`header is not JSON: ${String(err)}`);
  }
  const header = nativeHeader.safeParse(parsed);
  if (!header.success) {
    const issue = header.error.issues[0];
    throw fail(`header ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  return { header: header.data, dataStart: alignUp(NATIVE_PREFIX_BYTES + length, 64) };
}
