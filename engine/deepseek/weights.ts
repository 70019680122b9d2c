// Loads a DeepSeek-V3-architecture checkpoint (config.json + one or more *.safetensors, HF layout) from
// in-memory files into the reference model's weights. FP8 projections (F8_E4M3 + F32 weight_scale_inv)
// are dequantized to f32 at load, or kept in FP8 for the fp8Gemm path (LoadOptions.gemm).
import { readSafetensors, tensorToFloat32, type TensorView } from '../formats/safetensors';
import { isMoeLayer, parseDeepSeekConfig, type DeepSeekConfig } from './config';
import { dequantizeWeightFp8 } from '../formats/fp8';
import { layerPrefix } from './hf-names';
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

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  private view(name: string, shape: number[]): TensorView {
    const t = this.tensors.get(name);
    if (!t) throw new DeepSeekLoadError(`checkpoint lacks tensor ${name}`);
    if (t.shape.join(',') !== shape.join(','))
      throw new DeepSeekLoadError(`${name}: shape [${t.shape}], config implies [${shape}]`);
    return t;
  }

  float(name: string, shape: number[]): Float32Array {
    return tensorToFloat32(this.view(name, shape));
  }

  private fp8(
    name: string,
    t: TensorView,
    rows: number,
    cols: number,
  ): Extract<Linear, { kind: 'fp8' }> {
    const block = this.config.quantization?.weightBlockSize ?? [128, 128];
    const scaleInv = this.float(`${name}_scale_inv`, [
      Math.ceil(rows / block[0]),
      Math.ceil(cols / block[1]),
    ]);
    return { kind: 'fp8', rows, cols, weight: { q: t.bytes, scaleInv }, block };
  }

  /** A projection as f32 [rows, cols], dequantizing FP8 blocks. */
  matrix(name: string, rows: number, cols: number): Float32Array {
    const t = this.view(name, [rows, cols]);
    if (t.dtype !== 'F8_E4M3') return tensorToFloat32(t);
    const f = this.fp8(name, t, rows, cols);
    return dequantizeWeightFp8(f.weight, rows, cols, f.block);
  }

  linear(name: string, rows: number, cols: number): Linear {
    const t = this.view(name, [rows, cols]);
    if (t.dtype === 'F8_E4M3' && this.gemm === 'fp8') return this.fp8(name, t, rows, cols);
    return { kind: 'f32', rows, cols, w: this.matrix(name, rows, cols) };
  }
}

function loadMlp(src: TensorSource, p: string, hidden: number, inter: number): MlpWeights {
  return {
    gate: src.linear(`${p}.gate_proj.weight`, inter, hidden),
    up: src.linear(`${p}.up_proj.weight`, inter, hidden),
    down: src.linear(`${p}.down_proj.weight`, hidden, inter),
  };
}

function loadBlock(src: TensorSource, c: DeepSeekConfig, layer: number): BlockWeights {
  const p = layerPrefix(layer),
    a = `${p}.self_attn`,
    h = c.hiddenSize,
    H = c.numAttentionHeads;
  const qk = c.qkNopeHeadDim + c.qkRopeHeadDim,
    r = c.qLoraRank;
  const mla: MlaWeights = {
    qA: r === null ? null : src.linear(`${a}.q_a_proj.weight`, r, h),
    qANorm: r === null ? null : src.float(`${a}.q_a_layernorm.weight`, [r]),
    qB: r === null ? null : src.linear(`${a}.q_b_proj.weight`, H * qk, r),
    q: r === null ? src.linear(`${a}.q_proj.weight`, H * qk, h) : null,
    kvA: src.linear(`${a}.kv_a_proj_with_mqa.weight`, c.kvLoraRank + c.qkRopeHeadDim, h),
    kvANorm: src.float(`${a}.kv_a_layernorm.weight`, [c.kvLoraRank]),
    // Absorbed into the query and the output (and expanded per token in the naive form): always f32.
    kvB: src.matrix(`${a}.kv_b_proj.weight`, H * (c.qkNopeHeadDim + c.vHeadDim), c.kvLoraRank),
    o: src.linear(`${a}.o_proj.weight`, h, H * c.vHeadDim),
  };
  const moe = isMoeLayer(c, layer);
  return {
    attnNorm: src.float(`${p}.input_layernorm.weight`, [h]),
    mla,
    ffnNorm: src.float(`${p}.post_attention_layernorm.weight`, [h]),
    dense: moe ? null : loadMlp(src, `${p}.mlp`, h, c.intermediateSize),
    moe: !moe
      ? null
      : {
          router: src.float(`${p}.mlp.gate.weight`, [c.nRoutedExperts, h]),
          bias: src.has(`${p}.mlp.gate.e_score_correction_bias`)
            ? src.float(`${p}.mlp.gate.e_score_correction_bias`, [c.nRoutedExperts])
            : null,
          experts: Array.from({ length: c.nRoutedExperts }, (_, e) =>
            loadMlp(src, `${p}.mlp.experts.${e}`, h, c.moeIntermediateSize),
          ),
          shared:
            c.nSharedExperts > 0
              ? loadMlp(src, `${p}.mlp.shared_experts`, h, c.nSharedExperts * c.moeIntermediateSize)
              : null,
        },
  };
}

function loadMtp(
  src: TensorSource,
  c: DeepSeekConfig,
  k: number,
  embed: Float32Array,
  lmHead: Linear,
): MtpWeights {
  const layer = c.numHiddenLayers + k,
    p = layerPrefix(layer),
    h = c.hiddenSize,
    V = c.vocabSize;
  // The stored embed_tokens / shared_head.head are copies of the main ones; fall back when a file omits them.
  return {
    embed: src.has(`${p}.embed_tokens.weight`)
      ? src.float(`${p}.embed_tokens.weight`, [V, h])
      : embed,
    enorm: src.float(`${p}.enorm.weight`, [h]),
    hnorm: src.float(`${p}.hnorm.weight`, [h]),
    ehProj: src.linear(`${p}.eh_proj.weight`, h, 2 * h),
    block: loadBlock(src, c, layer),
    headNorm: src.float(`${p}.shared_head.norm.weight`, [h]),
    head: src.has(`${p}.shared_head.head.weight`)
      ? src.linear(`${p}.shared_head.head.weight`, V, h)
      : lmHead,
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
  const h = config.hiddenSize,
    V = config.vocabSize;
  const embed = src.float('model.embed_tokens.weight', [V, h]);
  const lmHead: Linear = config.tieWordEmbeddings
    ? { kind: 'f32', rows: V, cols: h, w: embed }
    : src.linear('lm_head.weight', V, h);
  return {
    config,
    embed,
    layers: Array.from({ length: config.numHiddenLayers }, (_, i) => loadBlock(src, config, i)),
    norm: src.float('model.norm.weight', [h]),
    lmHead,
    mtp: Array.from({ length: config.numNextnPredictLayers }, (_, k) =>
      loadMtp(src, config, k, embed, lmHead),
    ),
  };
}
