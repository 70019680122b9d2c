// Writes a model's tensors as one safetensors file in the model-directory layout (DESIGN.md "Model
// files"), quantized to a chosen format. The file is produced piece by piece (header, then one tensor
// at a time), so a converter can stream it to disk with a progress bar and never hold the whole file.
import { FP8_BLOCK, fp8ScaleName, fp8ScaleShape, quantizeWeightFp8 } from './fp8';
import { f32ArrayToF16 } from './f16';
import type { SafetensorsDtype } from './safetensors';
import type { TensorSpec } from './hf-tensors';
import {
  GROUP,
  dequantizeQ4,
  dequantizeQ8,
  quantizeQ4,
  quantizeQ8,
  type GroupQuantized,
} from './quant';

export type QuantTarget = 'f32' | 'f16' | 'q8' | 'q4' | 'fp8';
export const QUANT_TARGETS: readonly QuantTarget[] = ['f32', 'f16', 'q8', 'q4', 'fp8'];

/** A tensor to convert, in the HF layout; `group` when the source already holds it group-quantized. */
export interface SourceTensor {
  spec: TensorSpec;
  read(): Float32Array;
  group?: { format: 'q8' | 'q4'; read(): GroupQuantized };
}

export interface OutputTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  byteLength: number;
  /** The tensor's bytes, computed from its source when called. */
  encode(): Uint8Array;
}

const WIDTH: Record<SafetensorsDtype, number> = {
  F32: 4,
  I32: 4,
  F16: 2,
  BF16: 2,
  F8_E4M3: 1,
  I8: 1,
  U8: 1,
};
const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** A source's values grouped in `format`: passed through when the source has it, else quantized. */
function grouped(src: SourceTensor, format: 'q8' | 'q4'): GroupQuantized {
  if (src.group?.format === format) return src.group.read();
  const [rows, cols] = src.spec.shape;
  return (format === 'q8' ? quantizeQ8 : quantizeQ4)(sourceValues(src), rows, cols);
}

/** Float values of a source (dequantized when it is group-quantized). */
export function sourceValues(src: SourceTensor): Float32Array {
  if (!src.group) return src.read();
  return src.group.format === 'q8'
    ? dequantizeQ8(src.group.read())
    : dequantizeQ4(src.group.read());
}

/**
 * The output tensors for `quant`: matrices (embedding, projections, head) in the target format,
 * norms and biases in F32. A matrix whose rows are not a multiple of 32 cannot be group-quantized
 * and stays F16. Sorted widest dtype first (F32 data stays 4-aligned), then in source order.
 */
export function planOutput(sources: SourceTensor[], quant: QuantTarget): OutputTensor[] {
  const out: OutputTensor[] = [];
  const f32 = (name: string, shape: number[], values: () => Float32Array) =>
    out.push({
      name,
      dtype: 'F32',
      shape,
      byteLength: 4 * shape.reduce((a, b) => a * b, 1),
      encode: () => bytesOf(values()),
    });
  for (const src of sources) {
    const { name, shape } = src.spec;
    const n = shape.reduce((a, b) => a * b, 1);
    const values = () => sourceValues(src);
    const isMatrix = shape.length === 2;
    let format: QuantTarget = isMatrix ? quant : 'f32';
    if ((format === 'q8' || format === 'q4') && shape[1] % GROUP !== 0) format = 'f16';
    const base = name.replace(/\.weight$/, '');
    switch (format) {
      case 'f32':
        f32(name, shape, values);
        break;
      case 'f16':
        out.push({
          name,
          dtype: 'F16',
          shape,
          byteLength: 2 * n,
          encode: () => bytesOf(f32ArrayToF16(values())),
        });
        break;
      case 'q8':
      case 'q4': {
        const q4 = format === 'q4';
        out.push({
          name,
          dtype: q4 ? 'U8' : 'I8',
          shape: q4 ? [shape[0], shape[1] / 2] : shape,
          byteLength: q4 ? n / 2 : n,
          encode: () => bytesOf(grouped(src, format).q),
        });
        out.push({
          name: `${base}.scales`,
          dtype: 'F16',
          shape: [shape[0], shape[1] / GROUP],
          byteLength: (n / GROUP) * 2,
          encode: () => bytesOf(grouped(src, format).scales),
        });
        break;
      }
      case 'fp8': {
        const [rows, cols] = shape;
        const fp8 = () => quantizeWeightFp8(values(), rows, cols);
        out.push({ name, dtype: 'F8_E4M3', shape, byteLength: n, encode: () => fp8().q });
        f32(fp8ScaleName(name), fp8ScaleShape(rows, cols), () => fp8().scaleInv);
        break;
      }
    }
  }
  return out
    .map((t, i) => [t, i] as const)
    .sort((a, b) => WIDTH[b[0].dtype] - WIDTH[a[0].dtype] || a[1] - b[1])
    .map(([t]) => t);
}

/** The first bytes of the file: u64 header length, then the JSON header padded with spaces to 8 bytes. */
export function safetensorsHeader(
  tensors: OutputTensor[],
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = {
      dtype: t.dtype,
      shape: t.shape,
      data_offsets: [offset, offset + t.byteLength],
    };
    offset += t.byteLength;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(8 + padded).fill(0x20, 8);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}

/** The whole file as pieces: the header, then each tensor's bytes (checked against the plan). */
export function* encodeSafetensors(
  tensors: OutputTensor[],
  metadata?: Record<string, string>,
): Generator<{ bytes: Uint8Array; tensor?: OutputTensor }> {
  yield { bytes: safetensorsHeader(tensors, metadata) };
  for (const tensor of tensors) {
    const bytes = tensor.encode();
    if (bytes.byteLength !== tensor.byteLength)
      throw new Error(
        `${tensor.name}: encoded ${bytes.byteLength} bytes, planned ${tensor.byteLength}`,
      );
    yield { bytes, tensor };
  }
}

/** The file in one buffer (tests, small models). */
export function safetensorsBytes(
  tensors: OutputTensor[],
  metadata?: Record<string, string>,
): Uint8Array {
  const parts = [...encodeSafetensors(tensors, metadata)].map((p) => p.bytes);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** config.json's quantization_config for a target (none for float targets). */
export function quantizationConfig(quant: QuantTarget): Record<string, unknown> | undefined {
  if (quant === 'fp8')
    return {
      quant_method: 'fp8',
      fmt: 'e4m3',
      activation_scheme: 'dynamic',
      weight_block_size: [FP8_BLOCK, FP8_BLOCK],
    };
  if (quant === 'q8' || quant === 'q4')
    return {
      quant_method: 'edge-group',
      bits: quant === 'q8' ? 8 : 4,
      group_size: GROUP,
      layout: quant === 'q8' ? 'q8_0' : 'q4_0',
    };
  return undefined;
}
