// Edge-native weights (engine/formats/edge-native.ts) for the Llama engine. Loading: the header is read
// from the first chunk, checked against config.json before anything is allocated, then one allocation
// takes the whole data section and every later chunk of the stream is copied straight to its final
// place in backend memory (no copy of the file, no per-tensor conversion). Writing: the weights the
// conversion path (hf-weights.ts) placed in memory, dumped as they lie, so both paths hold the same
// bytes by construction.
import {
  NATIVE_ALIGN,
  NativeFormatError,
  WordHash,
  alignUp,
  decodeNativeHead,
  encodeNativeHead,
  matrixBytes,
  type NativeHeader,
  type NativeShape,
  type NativeTensor,
} from '../formats/edge-native';
import { byteView } from '../formats/device-sinks';
import { llamaTensorSpecs, type TensorSpec } from '../formats/hf-tensors';
import { chunksOf, type ChunkSource } from '../formats/chunks';
import type { KernelBackend } from '../../kernels-wasm/types';
import type { LlamaConfig } from './config';
import { f32Matrix, type DeviceMatrix, type DeviceWeights } from './forward';
import { assemble } from './hf-weights';
import { q4x8Shape } from './packed';

const shapeOf = (c: LlamaConfig): NativeShape => ({
  dim: c.dim,
  hiddenDim: c.hiddenDim,
  nLayers: c.nLayers,
  nHeads: c.nHeads,
  nKvHeads: c.nKvHeads,
  headDim: c.headDim,
  vocabSize: c.vocabSize,
  sharedClassifier: c.sharedClassifier,
  qkvBias: !!c.qkvBias,
});

/** Streams an edge-native file into backend memory; returns the pointers the forward pass reads. */
export async function loadNativeWeights(
  k: KernelBackend,
  c: LlamaConfig,
  source: ChunkSource,
): Promise<DeviceWeights> {
  let head: Uint8Array = new Uint8Array(0);
  let placed: { header: NativeHeader; base: number; dataStart: number } | null = null;
  let filePos = 0; // bytes of the file seen
  let at = 0; // bytes of the data section in place
  let hashed = 0;
  const hash = new WordHash();
  const place = (chunk: Uint8Array, chunkPos: number) => {
    const { header, base, dataStart } = placed!;
    const bytes = chunk.subarray(Math.max(0, dataStart - chunkPos));
    if (at + bytes.length > header.data_bytes)
      throw new NativeFormatError(
        `edge-native file runs past its ${header.data_bytes} data bytes`,
        'data',
      );
    byteView(k, base + at, bytes.length).set(bytes);
    at += bytes.length;
    const upto = at - (at % NATIVE_ALIGN);
    if (upto > hashed) {
      const f = k.f32(base + hashed, (upto - hashed) / 4);
      hash.update(new Uint32Array(f.buffer, f.byteOffset, f.length));
      hashed = upto;
    }
  };
  for await (const chunk of chunksOf(source)) {
    const chunkPos = filePos;
    filePos += chunk.length;
    if (placed) {
      place(chunk, chunkPos);
      continue;
    }
    head = concat(head, chunk);
    const decoded = decodeNativeHead(head);
    if (!decoded) continue;
    checkHeader(k, c, decoded.header);
    const base = k.alloc(decoded.header.data_bytes / 4);
    placed = { header: decoded.header, base, dataStart: decoded.dataStart };
    place(head, 0);
    head = new Uint8Array(0);
  }
  if (!placed) throw new NativeFormatError('edge-native file ends inside its header', 'header');
  const { header, base } = placed;
  if (at !== header.data_bytes)
    throw new NativeFormatError(
      `edge-native file ends after ${at} of ${header.data_bytes} data bytes (truncated)`,
      'data',
    );
  if (hash.hex() !== header.data_hash)
    throw new NativeFormatError('edge-native data checksum mismatch (the file is damaged)', 'data');
  const loaded = new Map<string, DeviceMatrix>();
  for (const t of header.tensors) {
    const scales = t.format === 'f32' ? 0 : base + t.scales;
    loaded.set(t.name, {
      format: t.format,
      rows: t.rows,
      cols: t.cols,
      data: base + t.data,
      scales,
    });
  }
  return assemble(c, new Map(llamaTensorSpecs(c).map((s) => [s.name, s])), loaded);
}

/** Everything a loader must know before it allocates: the shape, the tensors, their extents. */
function checkHeader(k: KernelBackend, c: LlamaConfig, h: NativeHeader): void {
  const fail = (why: string) => new NativeFormatError(`edge-native file: ${why}`, 'header');
  const want = shapeOf(c);
  const diff = (Object.keys(want) as (keyof NativeShape)[]).filter((f) => want[f] !== h.shape[f]);
  if (diff.length)
    throw fail(`laid out for another shape (${diff.map((f) => `${f} ${h.shape[f]}`).join(', ')})`);
  if (h.data_bytes % NATIVE_ALIGN) throw fail(`data_bytes ${h.data_bytes} is not 16-aligned`);
  const specs = new Map(llamaTensorSpecs(c).map((s) => [s.name, s]));
  const seen = new Set<string>();
  const spans: [number, number][] = [];
  for (const t of h.tensors) {
    const spec = specs.get(t.name);
    if (!spec || seen.has(t.name)) throw fail(`unexpected or repeated tensor ${t.name}`);
    seen.add(t.name);
    const [rows, cols = 1] = spec.shape;
    if (t.rows !== rows || t.cols !== cols)
      throw fail(`${t.name} is [${t.rows}, ${t.cols}], config expects [${rows}, ${cols}]`);
    if (t.format !== 'f32' && (spec.role === 'norm' || spec.role === 'bias' || !k.quant))
      throw fail(
        `${t.name} is ${t.format}, which ${k.quant ? 'a vector' : 'this backend'} cannot be`,
      );
    if (t.format === 'q4x8' && (!k.q4x8 || !q4x8Shape(rows, cols)))
      throw fail(
        `${t.name} is q4x8, which ${k.q4x8 ? `[${rows}, ${cols}]` : 'this backend'} cannot be`,
      );
    const size = matrixBytes(t.format, rows, cols);
    spans.push([t.data, t.data + size.data]);
    if (size.scales) spans.push([t.scales, t.scales + size.scales]);
  }
  const absent = [...specs.keys()].filter((n) => !seen.has(n));
  if (absent.length)
    throw fail(`lacks ${absent.length} tensor(s): ${absent.slice(0, 3).join(', ')}`);
  spans.sort((a, b) => a[0] - b[0]);
  spans.forEach(([begin, end], i) => {
    if (begin % NATIVE_ALIGN || end > h.data_bytes || (i > 0 && begin < spans[i - 1][1]))
      throw fail(`tensor bytes [${begin}, ${end}) are unaligned, overlap or pass data_bytes`);
  });
}

function matrixOf(w: DeviceWeights, spec: TensorSpec): DeviceMatrix {
  const [rows, cols = 1] = spec.shape;
  const holder = (spec.layer === undefined ? w : w.layers[spec.layer]) as unknown as Record<
    string,
    DeviceMatrix | number
  >;
  const v = holder[spec.slot];
  return typeof v === 'number' ? f32Matrix(v, rows, cols) : v;
}

/** The file of weights already in backend memory: its head (prefix + header) and data section. */
export function encodeNativeWeights(
  k: KernelBackend,
  c: LlamaConfig,
  w: DeviceWeights,
): { head: Uint8Array; data: Uint8Array } {
  const specs = llamaTensorSpecs(c);
  const tensors: NativeTensor[] = [];
  let end = 0;
  const take = (bytes: number) => {
    const at = end;
    end = alignUp(end + bytes, NATIVE_ALIGN);
    return at;
  };
  for (const spec of specs) {
    const m = matrixOf(w, spec);
    const size = matrixBytes(m.format, m.rows, m.cols);
    const data = take(size.data);
    tensors.push({
      name: spec.name,
      format: m.format,
      rows: m.rows,
      cols: m.cols,
      data,
      scales: size.scales ? take(size.scales) : 0,
    });
  }
  const out = new Uint8Array(end);
  specs.forEach((spec, i) => {
    const m = matrixOf(w, spec);
    const size = matrixBytes(m.format, m.rows, m.cols);
    out.set(byteView(k, m.data, size.data), tensors[i].data);
    if (size.scales) out.set(byteView(k, m.scales, size.scales), tensors[i].scales);
  });
  const hash = new WordHash();
  hash.update(new Uint32Array(out.buffer, 0, end / 4));
  const header: NativeHeader = {
    format: 'edge-native',
    arch: 'llama',
    shape: shapeOf(c),
    data_bytes: end,
    data_hash: hash.hex(),
    tensors,
  };
  return { head: encodeNativeHead(header), data: out };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
