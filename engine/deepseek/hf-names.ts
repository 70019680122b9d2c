// The tensors of a DeepSeek-V3 checkpoint in the Hugging Face layout, as one table that both the
// synthetic generator (what to write) and the loader (what to expect, with which shape) read.
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

export const layerPrefix = (i: number) => `model.layers.${i}`;

function mlpSpecs(prefix: string, hidden: number, inter: number): TensorSpec[] {
  return [
    { name: `${prefix}.gate_proj.weight`, shape: [inter, hidden], role: 'linear' },
    { name: `${prefix}.up_proj.weight`, shape: [inter, hidden], role: 'linear' },
    { name: `${prefix}.down_proj.weight`, shape: [hidden, inter], role: 'linear' },
  ];
}

/** One transformer block: MLA, its norms, and a dense or MoE MLP. */
export function blockSpecs(c: DeepSeekConfig, layer: number): TensorSpec[] {
  const p = layerPrefix(layer),
    a = `${p}.self_attn`,
    h = c.hiddenSize,
    H = c.numAttentionHeads;
  const specs: TensorSpec[] = [{ name: `${p}.input_layernorm.weight`, shape: [h], role: 'norm' }];
  if (c.qLoraRank === null) {
    specs.push({ name: `${a}.q_proj.weight`, shape: [H * qkHeadDim(c), h], role: 'linear' });
  } else {
    specs.push(
      { name: `${a}.q_a_proj.weight`, shape: [c.qLoraRank, h], role: 'linear' },
      { name: `${a}.q_a_layernorm.weight`, shape: [c.qLoraRank], role: 'norm' },
      { name: `${a}.q_b_proj.weight`, shape: [H * qkHeadDim(c), c.qLoraRank], role: 'linear' },
    );
  }
  specs.push(
    {
      name: `${a}.kv_a_proj_with_mqa.weight`,
      shape: [c.kvLoraRank + c.qkRopeHeadDim, h],
      role: 'linear',
    },
    { name: `${a}.kv_a_layernorm.weight`, shape: [c.kvLoraRank], role: 'norm' },
    {
      name: `${a}.kv_b_proj.weight`,
      shape: [H * (c.qkNopeHeadDim + c.vHeadDim), c.kvLoraRank],
      role: 'linear',
    },
    { name: `${a}.o_proj.weight`, shape: [h, H * c.vHeadDim], role: 'linear' },
    { name: `${p}.post_attention_layernorm.weight`, shape: [h], role: 'norm' },
  );
  if (!isMoeLayer(c, layer)) return [...specs, ...mlpSpecs(`${p}.mlp`, h, c.intermediateSize)];
  specs.push(
    { name: `${p}.mlp.gate.weight`, shape: [c.nRoutedExperts, h], role: 'router' },
    {
      name: `${p}.mlp.gate.e_score_correction_bias`,
      shape: [c.nRoutedExperts],
      role: 'router-bias',
    },
  );
  for (let e = 0; e < c.nRoutedExperts; e++)
    specs.push(...mlpSpecs(`${p}.mlp.experts.${e}`, h, c.moeIntermediateSize));
  if (c.nSharedExperts > 0)
    specs.push(...mlpSpecs(`${p}.mlp.shared_experts`, h, c.nSharedExperts * c.moeIntermediateSize));
  return specs;
}

/** The MTP module k (0-based): its block plus enorm, hnorm, eh_proj, shared_head and the stored copies. */
export function mtpSpecs(c: DeepSeekConfig, k: number): TensorSpec[] {
  const layer = c.numHiddenLayers + k,
    p = layerPrefix(layer),
    h = c.hiddenSize;
  return [
    { name: `${p}.embed_tokens.weight`, shape: [c.vocabSize, h], role: 'embedding' },
    { name: `${p}.enorm.weight`, shape: [h], role: 'norm' },
    { name: `${p}.hnorm.weight`, shape: [h], role: 'norm' },
    // [hidden, 2·hidden]: input is [enorm(embedding of token t+1) ; hnorm(hidden state of token t)].
    { name: `${p}.eh_proj.weight`, shape: [h, 2 * h], role: 'linear' },
    ...blockSpecs(c, layer),
    { name: `${p}.shared_head.norm.weight`, shape: [h], role: 'norm' },
    { name: `${p}.shared_head.head.weight`, shape: [c.vocabSize, h], role: 'head' },
  ];
}

export function deepSeekTensorSpecs(c: DeepSeekConfig): TensorSpec[] {
  const specs: TensorSpec[] = [
    { name: 'model.embed_tokens.weight', shape: [c.vocabSize, c.hiddenSize], role: 'embedding' },
  ];
  for (let i = 0; i < c.numHiddenLayers; i++) specs.push(...blockSpecs(c, i));
  specs.push({ name: 'model.norm.weight', shape: [c.hiddenSize], role: 'norm' });
  if (!c.tieWordEmbeddings)
    specs.push({ name: 'lm_head.weight', shape: [c.vocabSize, c.hiddenSize], role: 'head' });
  for (let k = 0; k < c.numNextnPredictLayers; k++) specs.push(...mtpSpecs(c, k));
  return specs;
}
