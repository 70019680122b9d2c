// Places a DeepSeek-V3 checkpoint (the files loadDeepSeekModel reads) into WASM memory: FP8 projections stay
// E4M3 bytes + f32 block scales; norms, router, embedding and head become f32; kv_b_proj is dequantized to
// f32, as the reference holds it (MLA's absorbed form reads it per head). With `dequantize`, every FP8
// projection becomes f32 at load too (4 bytes per weight: no decode per use). With `mtp`, the first MTP
// module too (its block, enorm/hnorm/eh_proj, shared_head.norm); its stored copies of the embedding and the
// head are left in the file: it reads the main ones.
import { readSafetensors, tensorToFloat32, type TensorView } from '../formats/safetensors';
import { isMoeLayer, parseDeepSeekConfig, type DeepSeekConfig } from './config';
import { dequantizeWeightFp8 } from '../formats/fp8';
import { deepSeekTensorSpecs, layerPrefix, storedMtpModules, type TensorSpec } from './hf-names';
import { DeepSeekLoadError } from './weights';
import { placeBytes, placeF32, type WasmLinear } from './wasm-linear';
import type { KernelBackend } from '../../kernels-wasm/types';

export interface WasmMlp {
  gate: WasmLinear;
  up: WasmLinear;
  down: WasmLinear;
}

export interface WasmMoeWeights {
  router: number; // f32 [E, hidden]
  bias: number; // f32 [E], 0 when the checkpoint has none
  experts: WasmMlp[];
  shared: WasmMlp | null;
}

export interface WasmMlaWeights {
  qA: WasmLinear | null;
  qANorm: number; // f32 [qLoraRank], 0 without low-rank q
  qB: WasmLinear | null;
  q: WasmLinear | null;
  kvA: WasmLinear;
  kvANorm: number; // f32 [latent]
  kvB: number; // f32 [H·(nope+v), latent]
  o: WasmLinear;
}

export interface WasmBlockWeights {
  attnNorm: number;
  mla: WasmMlaWeights;
  ffnNorm: number;
  dense: WasmMlp | null;
  moe: WasmMoeWeights | null;
}

export interface WasmDeepSeekWeights {
  config: DeepSeekConfig;
  embed: number; // f32 [vocab, hidden]
  layers: WasmBlockWeights[];
  norm: number; // f32 [hidden]
  lmHead: WasmLinear;
  /** The placed MTP module (at most one), when asked for and the checkpoint has it. */
  mtp: WasmMtpWeights | null;
  /** Bytes of weights placed. */
  bytes: number;
}

/** DeepSeek-V3's next-n module k = 0 (layer num_hidden_layers): mtp.ts is its float64 reference. */
export interface WasmMtpWeights {
  enorm: number; // f32 [hidden]
  hnorm: number; // f32 [hidden]
  ehProj: WasmLinear; // [hidden, 2·hidden]
  block: WasmBlockWeights;
  headNorm: number; // f32 [hidden]
}

export interface PlaceOptions {
  /** FP8 projections become f32 at load instead of staying E4M3 bytes + scales (default false). */
  dequantize?: boolean;
  /** Place the MTP module when the checkpoint has one (default false). */
  mtp?: boolean;
}

/** Reads tensors by their name in the checkpoint table (hf-names.ts), which also gives their shape. */
class Placer {
  bytes = 0;
  private readonly specs: Map<string, TensorSpec>;
  constructor(
    private mem: KernelBackend,
    private tensors: Map<string, TensorView>,
    private config: DeepSeekConfig,
    private dequantize: boolean,
  ) {
    this.specs = new Map(deepSeekTensorSpecs(config).map((s) => [s.name, s]));
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  private shapeOf(name: string): number[] {
    const spec = this.specs.get(name);
    if (!spec) throw new Error(`${name} is not a tensor of this config (hf-names.ts)`);
    return spec.shape;
  }

  private view(name: string, shape = this.shapeOf(name)): TensorView {
    const t = this.tensors.get(name);
    if (!t) throw new DeepSeekLoadError(`checkpoint lacks tensor ${name}`);
    if (t.shape.join(',') !== shape.join(','))
      throw new DeepSeekLoadError(`${name}: shape [${t.shape}], config implies [${shape}]`);
    return t;
  }

  private f32(data: Float32Array): number {
    this.bytes += data.byteLength;
    return placeF32(this.mem, data);
  }

  float(name: string): number {
    return this.f32(tensorToFloat32(this.view(name)));
  }

  private scales(name: string): { scaleInv: Float32Array; block: [number, number] } {
    const [rows, cols] = this.shapeOf(name);
    const block = this.config.quantization?.weightBlockSize ?? [128, 128];
    const scaleInv = tensorToFloat32(
      this.view(`${name}_scale_inv`, [Math.ceil(rows / block[0]), Math.ceil(cols / block[1])]),
    );
    return { scaleInv, block: [block[0], block[1]] };
  }

  /** A projection: FP8 stays FP8 (unless dequantizing), anything else becomes f32. */
  linear(name: string): WasmLinear {
    const t = this.view(name),
      [rows, cols] = t.shape;
    if (t.dtype !== 'F8_E4M3' || this.dequantize)
      return { kind: 'f32', rows, cols, w: this.matrix(name) };
    const { scaleInv, block } = this.scales(name);
    this.bytes += t.bytes.byteLength;
    return {
      kind: 'fp8',
      rows,
      cols,
      w: placeBytes(this.mem, t.bytes),
      scales: this.f32(scaleInv),
      block,
    };
  }

  /**
   * The output head: BF16 stays BF16 where the kernels have BF16 ops (half of f32's bytes for the same
   * products: a small model's head is most of its decode step); otherwise as linear().
   */
  head(name: string): WasmLinear {
    const t = this.view(name),
      [rows, cols] = t.shape;
    if (t.dtype !== 'BF16' || !this.mem.bf16) return this.linear(name);
    this.bytes += t.bytes.byteLength;
    return { kind: 'bf16', rows, cols, w: placeBytes(this.mem, t.bytes) };
  }

  /** A projection dequantized to f32. */
  matrix(name: string): number {
    const t = this.view(name),
      [rows, cols] = t.shape;
    if (t.dtype !== 'F8_E4M3') return this.f32(tensorToFloat32(t));
    const { scaleInv, block } = this.scales(name);
    return this.f32(dequantizeWeightFp8({ q: t.bytes, scaleInv }, rows, cols, block));
  }
}

function placeMlp(src: Placer, p: string): WasmMlp {
  return {
    gate: src.linear(`${p}.gate_proj.weight`),
    up: src.linear(`${p}.up_proj.weight`),
    down: src.linear(`${p}.down_proj.weight`),
  };
}

function placeBlock(src: Placer, c: DeepSeekConfig, layer: number): WasmBlockWeights {
  const p = layerPrefix(layer),
    a = `${p}.self_attn`,
    lowRankQ = c.qLoraRank !== null;
  const mla: WasmMlaWeights = {
    qA: lowRankQ ? src.linear(`${a}.q_a_proj.weight`) : null,
    qANorm: lowRankQ ? src.float(`${a}.q_a_layernorm.weight`) : 0,
    qB: lowRankQ ? src.linear(`${a}.q_b_proj.weight`) : null,
    q: lowRankQ ? null : src.linear(`${a}.q_proj.weight`),
    kvA: src.linear(`${a}.kv_a_proj_with_mqa.weight`),
    kvANorm: src.float(`${a}.kv_a_layernorm.weight`),
    kvB: src.matrix(`${a}.kv_b_proj.weight`),
    o: src.linear(`${a}.o_proj.weight`),
  };
  const moe = isMoeLayer(c, layer),
    bias = `${p}.mlp.gate.e_score_correction_bias`;
  return {
    attnNorm: src.float(`${p}.input_layernorm.weight`),
    mla,
    ffnNorm: src.float(`${p}.post_attention_layernorm.weight`),
    dense: moe ? null : placeMlp(src, `${p}.mlp`),
    moe: !moe
      ? null
      : {
          router: src.float(`${p}.mlp.gate.weight`),
          bias: src.has(bias) ? src.float(bias) : 0,
          experts: Array.from({ length: c.nRoutedExperts }, (_, e) =>
            placeMlp(src, `${p}.mlp.experts.${e}`),
          ),
          shared: c.nSharedExperts > 0 ? placeMlp(src, `${p}.mlp.shared_experts`) : null,
        },
  };
}

function placeMtp(src: Placer, c: DeepSeekConfig): WasmMtpWeights {
  const layer = c.numHiddenLayers,
    p = layerPrefix(layer);
  return {
    enorm: src.float(`${p}.enorm.weight`),
    hnorm: src.float(`${p}.hnorm.weight`),
    ehProj: src.linear(`${p}.eh_proj.weight`),
    block: placeBlock(src, c, layer),
    headNorm: src.float(`${p}.shared_head.norm.weight`),
  };
}

/** files: 'config.json' and every '*.safetensors' of the checkpoint, as for loadDeepSeekModel. */
export function placeDeepSeekWeights(
  mem: KernelBackend,
  files: Record<string, Uint8Array>,
  opts: PlaceOptions = {},
): WasmDeepSeekWeights {
  const cfgBytes = files['config.json'];
  if (!cfgBytes) throw new DeepSeekLoadError('checkpoint lacks config.json');
  const config = parseDeepSeekConfig(JSON.parse(new TextDecoder().decode(cfgBytes)));
  const tensors = new Map<string, TensorView>();
  for (const [path, bytes] of Object.entries(files)) {
    if (path.endsWith('.safetensors'))
      for (const [name, t] of readSafetensors(bytes).tensors) tensors.set(name, t);
  }
  if (tensors.size === 0) throw new DeepSeekLoadError('checkpoint has no *.safetensors file');
  const src = new Placer(mem, tensors, config, opts.dequantize ?? false);
  const h = config.hiddenSize,
    V = config.vocabSize;
  const embed = src.float('model.embed_tokens.weight');
  const layers = Array.from({ length: config.numHiddenLayers }, (_, i) =>
    placeBlock(src, config, i),
  );
  const norm = src.float('model.norm.weight');
  const lmHead: WasmLinear = config.tieWordEmbeddings
    ? { kind: 'f32', rows: V, cols: h, w: embed }
    : src.head('lm_head.weight');
  const mtp =
    opts.mtp && storedMtpModules(config, tensors.keys()) > 0 ? placeMtp(src, config) : null;
  return { config, embed, layers, norm, lmHead, mtp, bytes: src.bytes };
}
