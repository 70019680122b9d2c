// Loads the weights of a model directory (config.json + safetensors, HF layout, DESIGN.md "Model
// files") into backend memory as they stream in: every tensor is allocated from the header, then
// each chunk of the file is written to its place, so the file is never held whole in the isolate.
// Quantized tensors (q8/q4 group-32, FP8 128×128) stay quantized when the backend has the kernels,
// else they are dequantized to f32 at load. q/k rows move from HF's rotate-half order to the
// engine's interleaved RoPE order on the way.
import {
  FP8_BLOCK,
  FP8_WEIGHT_BLOCK,
  dequantizeWeightFp8,
  fp8ScaleName,
  fp8ScaleShape,
} from '../formats/fp8';
import { f32Matrix, type DeviceMatrix, type DeviceWeights, type LayerWeights } from './forward';
import { bufferSink, copySink, floatSink, type RowMap } from '../formats/device-sinks';
import { interleavedRow, llamaTensorSpecs, type TensorSpec } from '../formats/hf-tensors';
import { GROUP, dequantizeQ4, dequantizeQ8 } from '../formats/quant';
import type { SafetensorsEntry } from '../formats/safetensors';
import {
  streamSafetensors,
  type ChunkSource,
  type TensorSink,
} from '../formats/safetensors-stream';
import type { KernelBackend } from '../../kernels-wasm/types';
import type { LlamaConfig } from './config';
import { ropeInverseFrequencies } from './rope';

export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const sameShape = (a: number[], b: number[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/** Streams every weight file into backend memory; returns the pointers the forward pass reads. */
export async function loadHfWeights(
  k: KernelBackend,
  c: LlamaConfig,
  files: ChunkSource[],
): Promise<DeviceWeights> {
  const specs = new Map(llamaTensorSpecs(c).map((s) => [s.name, s]));
  const loaded = new Map<string, DeviceMatrix>();
  for (const file of files) {
    await streamSafetensors(file, (entries) => planFile(k, c, specs, entries, loaded));
  }
  const missing = [...specs.keys()].filter((name) => !loaded.has(name));
  if (missing.length)
    throw new ModelLoadError(
      `the weights lack ${missing.length} tensor(s): ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ', …' : ''}`,
    );
  return assemble(c, specs, loaded);
}

/** Sinks for one file's tensors; `loaded` gets each tensor's place in memory as it is planned. */
function planFile(
  k: KernelBackend,
  c: LlamaConfig,
  specs: Map<string, TensorSpec>,
  entries: SafetensorsEntry[],
  loaded: Map<string, DeviceMatrix>,
): Map<string, TensorSink> {
  const byName = new Map(entries.map((e) => [e.name, e]));
  const sinks = new Map<string, TensorSink>();
  for (const e of entries) {
    const spec = specs.get(e.name);
    if (!spec) continue; // companions are planned with their weight; anything else is not ours
    const rowOf: RowMap | undefined = spec.rope ? (r) => interleavedRow(r, c.headDim) : undefined;
    const [rows, cols = 1] = spec.shape;
    if (e.dtype === 'F32' || e.dtype === 'F16' || e.dtype === 'BF16') {
      if (!sameShape(e.shape, spec.shape))
        throw new ModelLoadError(`${e.name}: shape [${e.shape}], config expects [${spec.shape}]`);
      const ptr = k.alloc(numel(spec.shape));
      sinks.set(e.name, floatSink(k, e.dtype, ptr, cols, rowOf));
      loaded.set(e.name, f32Matrix(ptr, rows, cols));
      continue;
    }
    const format =
      e.dtype === 'I8' ? 'q8' : e.dtype === 'U8' ? 'q4' : e.dtype === 'F8_E4M3' ? 'fp8' : null;
    const companion =
      format === 'fp8' ? fp8ScaleName(e.name) : e.name.replace(/\.weight$/, '.scales');
    const scales = byName.get(companion);
    if (!format || spec.shape.length !== 2 || !scales) {
      throw new ModelLoadError(
        `${e.name}: ${e.dtype}${scales ? '' : ` without ${companion}`} is not a weight format this loader reads`,
      );
    }
    const codeShape = format === 'q4' ? [rows, cols / 2] : spec.shape;
    const scaleShape = format === 'fp8' ? fp8ScaleShape(rows, cols) : [rows, cols / GROUP];
    const scaleDtype = format === 'fp8' ? 'F32' : 'F16';
    if (
      !sameShape(e.shape, codeShape) ||
      !sameShape(scales.shape, scaleShape) ||
      scales.dtype !== scaleDtype
    ) {
      throw new ModelLoadError(
        `${e.name}: ${format} expects ${e.dtype}[${codeShape}] + ${scaleDtype}[${scaleShape}], got [${e.shape}] + ${scales.dtype}[${scales.shape}]`,
      );
    }
    if (format === 'fp8' && rowOf && FP8_BLOCK % c.headDim !== 0) {
      throw new ModelLoadError(
        `${e.name}: FP8 q/k rows cannot move to the interleaved RoPE order across 128-row scale blocks (head_dim ${c.headDim})`,
      );
    }
    const codeBytes = numel(codeShape);
    const scaleBytes = numel(scaleShape) * (format === 'fp8' ? 4 : 2);
    if (k.quant) {
      const data = k.alloc(Math.ceil(codeBytes / 4));
      const scalePtr = k.alloc(Math.ceil(scaleBytes / 4));
      sinks.set(e.name, copySink(k, data, codeBytes / rows, rowOf));
      sinks.set(
        companion,
        copySink(
          k,
          scalePtr,
          format === 'fp8' ? scaleBytes : scaleBytes / rows,
          format === 'fp8' ? undefined : rowOf,
        ),
      );
      loaded.set(e.name, { format, rows, cols, data, scales: scalePtr });
      continue;
    }
    // no quantized kernels here: both parts in host memory, then f32 into backend memory
    const ptr = k.alloc(rows * cols);
    loaded.set(e.name, f32Matrix(ptr, rows, cols));
    const parts: { codes?: Uint8Array; scales?: Uint8Array } = {};
    const finish = () => {
      if (!parts.codes || !parts.scales) return;
      const values = dequantize(format, parts.codes, parts.scales, rows, cols);
      floatSink(k, 'F32', ptr, cols, rowOf).write(new Uint8Array(values.buffer), 0);
    };
    sinks.set(
      e.name,
      bufferSink(codeBytes, (b) => ((parts.codes = b), finish())),
    );
    sinks.set(
      companion,
      bufferSink(scaleBytes, (b) => ((parts.scales = b), finish())),
    );
  }
  return sinks;
}

function dequantize(
  format: 'q8' | 'q4' | 'fp8',
  codes: Uint8Array,
  scaleBytes: Uint8Array,
  rows: number,
  cols: number,
): Float32Array {
  if (format === 'fp8')
    return dequantizeWeightFp8(
      { q: codes, scaleInv: new Float32Array(scaleBytes.buffer) },
      rows,
      cols,
      FP8_WEIGHT_BLOCK,
    );
  const scales = new Uint16Array(scaleBytes.buffer);
  return format === 'q8' ? dequantizeQ8({ q: codes, scales }) : dequantizeQ4({ q: codes, scales });
}

/** The forward pass's pointers from each spec'd tensor's place in memory (also used by native-weights.ts). */
export function assemble(
  c: LlamaConfig,
  specs: Map<string, TensorSpec>,
  loaded: Map<string, DeviceMatrix>,
): DeviceWeights {
  const slot = new Map<string, DeviceMatrix>();
  for (const [name, spec] of specs) slot.set(`${spec.slot}:${spec.layer ?? ''}`, loaded.get(name)!);
  const m = (s: string, layer?: number) => slot.get(`${s}:${layer ?? ''}`)!;
  const v = (s: string, layer?: number) => slot.get(`${s}:${layer ?? ''}`)?.data ?? 0;
  const layers: LayerWeights[] = Array.from({ length: c.nLayers }, (_, l) => ({
    rmsAtt: v('rmsAtt', l),
    wq: m('wq', l),
    wk: m('wk', l),
    wv: m('wv', l),
    bq: v('bq', l),
    bk: v('bk', l),
    bv: v('bv', l),
    wo: m('wo', l),
    rmsFfn: v('rmsFfn', l),
    w1: m('w1', l),
    w2: m('w2', l),
    w3: m('w3', l),
  }));
  const tokenEmbedding = m('tokenEmbedding');
  return {
    tokenEmbedding,
    layers,
    rmsFinal: v('rmsFinal'),
    wcls: c.sharedClassifier ? tokenEmbedding : m('wcls'),
    ropeFrequencies: c.ropeScaling ? ropeInverseFrequencies(c) : null,
  };
}
