// The tensors of a DeepSeek-V3 checkpoint in the Hugging Face layout, as the one table that the
// synthetic generator (what to write), the loaders (what to expect, with which shape, into which
// field), the GPU upload (labels) and the parameter count read. The table has the loaded model's
// structure (weights.ts: BlockWeights, MlaWeights, ...), field for field, so a loader maps it.
// MTP modules are layers numbered after the main ones (README_WEIGHTS: layer 61 for V3); their
// embed_tokens and shared_head.head are stored copies of the main embedding and head.
import { isMoeLayer, qkHeadDim, type DeepSeekConfig } from './config';

/** linear: a projection (FP8 + weight_scale_inv when the config quantizes); the rest stay float. */
export type TensorRole = 'linear' | 'norm' | 'embedding' | 'head' | 'router' | 'router-bias';

export interface TensorSpec {
  name: string;
  shape: number[];
  role: TensorRole;
}

export interface MlpTensors {
  gate: TensorSpec;
  up: TensorSpec;
  down: TensorSpec;
}

/** Low-rank query (qA, qANorm, qB) or a plain q_proj (q): the other side is null. */
export interface MlaTensors {
  qA: TensorSpec | null;
  qANorm: TensorSpec | null;
  qB: TensorSpec | null;
  q: TensorSpec | null;
  kvA: TensorSpec;
  kvANorm: TensorSpec;
  kvB: TensorSpec;
  o: TensorSpec;
}

export interface MoeTensors {
  router: TensorSpec;
  bias: TensorSpec;
  experts: MlpTensors[];
  shared: MlpTensors | null;
}

/** One transformer block: MLA, its norms, and a dense (first_k_dense_replace) or MoE MLP. */
export interface BlockTensors {
  attnNorm: TensorSpec;
  mla: MlaTensors;
  ffnNorm: TensorSpec;
  dense: MlpTensors | null;
  moe: MoeTensors | null;
}

export interface MtpTensors {
  embed: TensorSpec;
  enorm: TensorSpec;
  hnorm: TensorSpec;
  ehProj: TensorSpec;
  block: BlockTensors;
  headNorm: TensorSpec;
  head: TensorSpec;
}

export interface DeepSeekTensors {
  embed: TensorSpec;
  layers: BlockTensors[];
  norm: TensorSpec;
  /** null when the head is tied to the embedding. */
  lmHead: TensorSpec | null;
  mtp: MtpTensors[];
}

export const EMBED_TOKENS = 'model.embed_tokens.weight';
export const LM_HEAD = 'lm_head.weight';
export const layerPrefix = (i: number) => `model.layers.${i}`;

const spec = (name: string, shape: number[], role: TensorRole): TensorSpec => ({
  name,
  shape,
  role,
});

function mlpTensors(prefix: string, hidden: number, inter: number): MlpTensors {
  return {
    gate: spec(`${prefix}.gate_proj.weight`, [inter, hidden], 'linear'),
    up: spec(`${prefix}.up_proj.weight`, [inter, hidden], 'linear'),
    down: spec(`${prefix}.down_proj.weight`, [hidden, inter], 'linear'),
  };
}

function mlaTensors(c: DeepSeekConfig, a: string): MlaTensors {
  const h = c.hiddenSize,
    H = c.numAttentionHeads,
    r = c.qLoraRank;
  return {
    qA: r === null ? null : spec(`${a}.q_a_proj.weight`, [r, h], 'linear'),
    qANorm: r === null ? null : spec(`${a}.q_a_layernorm.weight`, [r], 'norm'),
    qB: r === null ? null : spec(`${a}.q_b_proj.weight`, [H * qkHeadDim(c), r], 'linear'),
    q: r === null ? spec(`${a}.q_proj.weight`, [H * qkHeadDim(c), h], 'linear') : null,
    kvA: spec(`${a}.kv_a_proj_with_mqa.weight`, [c.kvLoraRank + c.qkRopeHeadDim, h], 'linear'),
    kvANorm: spec(`${a}.kv_a_layernorm.weight`, [c.kvLoraRank], 'norm'),
    kvB: spec(
      `${a}.kv_b_proj.weight`,
      [H * (c.qkNopeHeadDim + c.vHeadDim), c.kvLoraRank],
      'linear',
    ),
    o: spec(`${a}.o_proj.weight`, [h, H * c.vHeadDim], 'linear'),
  };
}

export function blockTensors(c: DeepSeekConfig, layer: number): BlockTensors {
  const p = layerPrefix(layer),
    h = c.hiddenSize,
    E = c.nRoutedExperts,
    moe = isMoeLayer(c, layer);
  return {
    attnNorm: spec(`${p}.input_layernorm.weight`, [h], 'norm'),
    mla: mlaTensors(c, `${p}.self_attn`),
    ffnNorm: spec(`${p}.post_attention_layernorm.weight`, [h], 'norm'),
    dense: moe ? null : mlpTensors(`${p}.mlp`, h, c.intermediateSize),
    moe: !moe
      ? null
      : {
          router: spec(`${p}.mlp.gate.weight`, [E, h], 'router'),
          bias: spec(`${p}.mlp.gate.e_score_correction_bias`, [E], 'router-bias'),
          experts: Array.from({ length: E }, (_, e) =>
            mlpTensors(`${p}.mlp.experts.${e}`, h, c.moeIntermediateSize),
          ),
          shared:
            c.nSharedExperts > 0
              ? mlpTensors(`${p}.mlp.shared_experts`, h, c.nSharedExperts * c.moeIntermediateSize)
              : null,
        },
  };
}

/** The MTP module k (0-based): its block plus enorm, hnorm, eh_proj, shared_head and the stored copies. */
export function mtpTensors(c: DeepSeekConfig, k: number): MtpTensors {
  const layer = c.numHiddenLayers + k,
    p = layerPrefix(layer),
    h = c.hiddenSize;
  return {
    embed: spec(`${p}.embed_tokens.weight`, [c.vocabSize, h], 'embedding'),
    enorm: spec(`${p}.enorm.weight`, [h], 'norm'),
    hnorm: spec(`${p}.hnorm.weight`, [h], 'norm'),
    // [hidden, 2·hidden]: input is [enorm(embedding of token t+1) ; hnorm(hidden state of token t)].
    ehProj: spec(`${p}.eh_proj.weight`, [h, 2 * h], 'linear'),
    block: blockTensors(c, layer),
    headNorm: spec(`${p}.shared_head.norm.weight`, [h], 'norm'),
    head: spec(`${p}.shared_head.head.weight`, [c.vocabSize, h], 'head'),
  };
}

/**
 * MTP modules the checkpoint stores: num_nextn_predict_layers, counted only while a module's layer has
 * tensors in the files. Releases that strip the MTP layer (several quantized V3s) keep the config as it
 * was; such a checkpoint loads and serves without speculation. A module stored in part is damage, not
 * absence: the loader then names its first missing tensor.
 */
export function storedMtpModules(c: DeepSeekConfig, names: Iterable<string>): number {
  const stored = new Set<number>();
  for (const name of names) {
    const m = /^model\.layers\.(\d+)\./.exec(name);
    if (m && Number(m[1]) >= c.numHiddenLayers) stored.add(Number(m[1]) - c.numHiddenLayers);
  }
  let k = 0;
  while (k < c.numNextnPredictLayers && stored.has(k)) k++;
  return k;
}

export function deepSeekTensors(c: DeepSeekConfig): DeepSeekTensors {
  const V = c.vocabSize,
    h = c.hiddenSize;
  return {
    embed: spec(EMBED_TOKENS, [V, h], 'embedding'),
    layers: Array.from({ length: c.numHiddenLayers }, (_, i) => blockTensors(c, i)),
    norm: spec('model.norm.weight', [h], 'norm'),
    lmHead: c.tieWordEmbeddings ? null : spec(LM_HEAD, [V, h], 'head'),
    mtp: Array.from({ length: c.numNextnPredictLayers }, (_, k) => mtpTensors(c, k)),
  };
}

const isSpec = (x: object): x is TensorSpec => 'name' in x && 'shape' in x && 'role' in x;

/** Every tensor of a table (or any part of one) in file order: fields in order, nulls skipped. */
export function tensorList(part: object | null): TensorSpec[] {
  if (part === null) return [];
  if (isSpec(part)) return [part];
  return Object.values(part).flatMap((v: object | null) => tensorList(v));
}

/** Elements of all the tensors of a table part. */
export const tensorElements = (part: object | null): number =>
  tensorList(part).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);

export const blockSpecs = (c: DeepSeekConfig, layer: number): TensorSpec[] =>
  tensorList(blockTensors(c, layer));

export const mtpSpecs = (c: DeepSeekConfig, k: number): TensorSpec[] =>
  tensorList(mtpTensors(c, k));

export const deepSeekTensorSpecs = (c: DeepSeekConfig): TensorSpec[] =>
  tensorList(deepSeekTensors(c));
