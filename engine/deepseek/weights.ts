// Loads a DeepSeek-V3-architecture checkpoint (config.json + one or more *.safetensors, HF layout) from
// in-memory files into the reference model's weights, field by field from the tensor table (hf-names.ts). FP8 projections (F8_E4M3 + F32 weight_scale_inv)
// are dequantized to f32 at load, or kept in FP8 for the fp8Gemm path (LoadOptions.gemm).
import { readSafetensors, tensorToFloat32, type TensorView } from '../formats/safetensors';
import { parseDeepSeekConfig, type DeepSeekConfig } from './config';
import { FP8_BLOCK, dequantizeWeightFp8, fp8ScaleName, fp8ScaleShape } from '../formats/fp8';
import {
  deepSeekTensors,
  storedMtpModules,
  type BlockTensors,
  type MlpTensors,
  type MtpTensors,
  type TensorSpec,
} from './hf-names';
import type { Linear } from './linear';
import type { MlaWeights } from './mla';
import type { MlpWeights, MoeWeights } from './moe';

export interface BlockWeights {
  attnNorm: Float32Array; // [hidden] input_layernorm
  mla: MlaWeights;
  ffnNorm: Float32Array; // [hidden] post_attention_layernorm
  dense: MlpWeights | null; // first_k_dense_replace layers
  moe: MoeWeights | null;
}

export interface MtpWeights {
  embed: Float32Array; // [vocab, hidden]
  enorm: Float32Array; // [hidden]
  hnorm: Float32Array; // [hidden]
  ehProj: Linear; // [hidden, 2·hidden]
  block: BlockWeights;
  headNorm: Float32Array; // [hidden]
  head: Linear; // [vocab, hidden]
}

export interface DeepSeekWeights {
  config: DeepSeekConfig;
  embed: Float32Array; // [vocab, hidden]
  layers: BlockWeights[];
  norm: Float32Array; // [hidden]
  lmHead: Linear; // [vocab, hidden]
  mtp: MtpWeights[];
}

export interface LoadOptions {
  /** 'dequantized' (default): FP8 weights become f32. 'fp8': keep them, quantize activations per 1×128. */
  gemm?: 'dequantized' | 'fp8';
}

export class DeepSeekLoadError extends Error {
  override name = 'DeepSeekLoadError';
}

class TensorSource {
  constructor(
    private tensors: Map<string, TensorView>,
    private config: DeepSeekConfig,
    private gemm: 'dequantized' | 'fp8',
  ) {}

  has(spec: TensorSpec): boolean {
    return this.tensors.has(spec.name);
  }

  private view({ name, shape }: { name: string; shape: number[] }): TensorView {
    const t = this.tensors.get(name);
    if (!t) throw new DeepSeekLoadError(`checkpoint lacks tensor ${name}`);
    if (t.shape.join(',') !== shape.join(','))
      throw new DeepSeekLoadError(`${name}: shape [${t.shape}], config implies [${shape}]`);
    return t;
  }

  float(spec: TensorSpec): Float32Array {
    return tensorToFloat32(this.view(spec));
  }

  private fp8(spec: TensorSpec, t: TensorView): Extract<Linear, { kind: 'fp8' }> {
    const [rows, cols] = spec.shape;
    const block = this.config.quantization?.weightBlockSize ?? [FP8_BLOCK, FP8_BLOCK];
    const scales = { name: fp8ScaleName(spec.name), shape: fp8ScaleShape(rows, cols, block) };
    const scaleInv = tensorToFloat32(this.view(scales));
    return { kind: 'fp8', rows, cols, weight: { q: t.bytes, scaleInv }, block };
  }

  /** A projection as f32 [rows, cols], dequantizing FP8 blocks. */
  matrix(spec: TensorSpec): Float32Array {
    const t = this.view(spec);
    if (t.dtype !== 'F8_E4M3') return tensorToFloat32(t);
    const f = this.fp8(spec, t);
    return dequantizeWeightFp8(f.weight, f.rows, f.cols, f.block);
  }

  linear(spec: TensorSpec): Linear {
    const t = this.view(spec);
    if (t.dtype === 'F8_E4M3' && this.gemm === 'fp8') return this.fp8(spec, t);
    const [rows, cols] = spec.shape;
    return { kind: 'f32', rows, cols, w: this.matrix(spec) };
  }
}

function loadMlp(src: TensorSource, t: MlpTensors): MlpWeights {
  return { gate: src.linear(t.gate), up: src.linear(t.up), down: src.linear(t.down) };
}

function loadBlock(src: TensorSource, t: BlockTensors): BlockWeights {
  const a = t.mla;
  const mla: MlaWeights = {
    qA: a.qA && src.linear(a.qA),
    qANorm: a.qANorm && src.float(a.qANorm),
    qB: a.qB && src.linear(a.qB),
    q: a.q && src.linear(a.q),
    kvA: src.linear(a.kvA),
    kvANorm: src.float(a.kvANorm),
    // Absorbed into the query and the output (and expanded per token in the naive form): always f32.
    kvB: src.matrix(a.kvB),
    o: src.linear(a.o),
  };
  const moe = t.moe;
  return {
    attnNorm: src.float(t.attnNorm),
    mla,
    ffnNorm: src.float(t.ffnNorm),
    dense: t.dense && loadMlp(src, t.dense),
    moe: moe && {
      router: src.float(moe.router),
      bias: src.has(moe.bias) ? src.float(moe.bias) : null,
      experts: moe.experts.map((e) => loadMlp(src, e)),
      shared: moe.shared && loadMlp(src, moe.shared),
    },
  };
}

function loadMtp(
  src: TensorSource,
  t: MtpTensors,
  embed: Float32Array,
  lmHead: Linear,
): MtpWeights {
  // The stored embed_tokens / shared_head.head are copies of the main ones; fall back when a file omits them.
  return {
    embed: src.has(t.embed) ? src.float(t.embed) : embed,
    enorm: src.float(t.enorm),
    hnorm: src.float(t.hnorm),
    ehProj: src.linear(t.ehProj),
    block: loadBlock(src, t.block),
    headNorm: src.float(t.headNorm),
    head: src.has(t.head) ? src.linear(t.head) : lmHead,
  };
}

/** files: 'config.json' and every '*.safetensors' of the checkpoint (single file or shards). */
export function loadDeepSeekModel(
  files: Record<string, Uint8Array>,
  options: LoadOptions = {},
): DeepSeekWeights {
  const cfgBytes = files['config.json'];
  if (!cfgBytes) throw new DeepSeekLoadError('checkpoint lacks config.json');
  const config = parseDeepSeekConfig(JSON.parse(new TextDecoder().decode(cfgBytes)));
  const tensors = new Map<string, TensorView>();
  for (const [path, bytes] of Object.entries(files)) {
    if (path.endsWith('.safetensors'))
      for (const [name, t] of readSafetensors(bytes).tensors) tensors.set(name, t);
  }
  if (tensors.size === 0) throw new DeepSeekLoadError('checkpoint has no *.safetensors file');
  const src = new TensorSource(tensors, config, options.gemm ?? 'dequantized');
  const t = deepSeekTensors(config);
  const embed = src.float(t.embed);
  const lmHead: Linear = t.lmHead
    ? src.linear(t.lmHead)
    : { kind: 'f32', rows: config.vocabSize, cols: config.hiddenSize, w: embed };
  return {
    config,
    embed,
    layers: t.layers.map((b) => loadBlock(src, b)),
    norm: src.float(t.norm),
    lmHead,
    mtp: t.mtp
      .slice(0, storedMtpModules(config, tensors.keys()))
      .map((m) => loadMtp(src, m, embed, lmHead)),
  };
}
