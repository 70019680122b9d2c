// Parameter counts of a DeepSeek-V3-architecture config, counted tensor by tensor as the checkpoint
// stores them (norm weights and the router's e_score_correction_bias included, FP8 scales excluded).
// "Active" counts what one token touches: attention, dense MLPs, the shared experts and its top-k
// routed experts, the router, embedding row space and the head (DeepSeek counts both in 36.7B).
import { isMoeLayer, qkHeadDim, type DeepSeekConfig } from './config';

export interface DeepSeekParamCount {
  /** Embedding + num_hidden_layers blocks + final norm + lm_head (DeepSeek's "671B"). */
  mainTotal: number;
  mainActive: number;
  /** MTP modules without their copies of the embedding and head (DeepSeek's "11.5B unique"). */
  mtpUnique: number;
  /** MTP parameters one speculative step touches, including the shared embedding and head. */
  mtpActive: number;
  /** Everything the HF checkpoint stores: main + MTP, whose embed_tokens and shared_head.head are stored copies ("685B"). */
  checkpointTotal: number;
}

function attentionParams(c: DeepSeekConfig): number {
  const h = c.hiddenSize,
    heads = c.numAttentionHeads;
  const q =
    c.qLoraRank === null
      ? h * heads * qkHeadDim(c)
      : h * c.qLoraRank + c.qLoraRank + c.qLoraRank * heads * qkHeadDim(c); // q_a_proj, q_a_layernorm, q_b_proj
  const kv =
    h * (c.kvLoraRank + c.qkRopeHeadDim) +
    c.kvLoraRank +
    c.kvLoraRank * heads * (c.qkNopeHeadDim + c.vHeadDim);
  return q + kv + heads * c.vHeadDim * h; // … + o_proj
}

const mlpParams = (hidden: number, inter: number) => 3 * hidden * inter; // gate, up, down

function layerParams(c: DeepSeekConfig, layer: number): { total: number; active: number } {
  const common = attentionParams(c) + 2 * c.hiddenSize; // + input_layernorm, post_attention_layernorm
  if (!isMoeLayer(c, layer)) {
    const dense = common + mlpParams(c.hiddenSize, c.intermediateSize);
    return { total: dense, active: dense };
  }
  const expert = mlpParams(c.hiddenSize, c.moeIntermediateSize);
  const router = c.nRoutedExperts * c.hiddenSize + c.nRoutedExperts; // gate.weight + e_score_correction_bias
  return {
    total: common + router + (c.nRoutedExperts + c.nSharedExperts) * expert,
    active: common + router + (c.numExpertsPerTok + c.nSharedExperts) * expert,
  };
}

export function countDeepSeekParams(c: DeepSeekConfig): DeepSeekParamCount {
  const embed = c.vocabSize * c.hiddenSize;
  const head = c.tieWordEmbeddings ? 0 : c.vocabSize * c.hiddenSize;
  let mainTotal = embed + head + c.hiddenSize; // + model.norm
  let mainActive = mainTotal;
  for (let i = 0; i < c.numHiddenLayers; i++) {
    const l = layerParams(c, i);
    mainTotal += l.total;
    mainActive += l.active;
  }
  let mtpUnique = 0,
    mtpActive = 0;
  for (let k = 0; k < c.numNextnPredictLayers; k++) {
    const l = layerParams(c, c.numHiddenLayers + k);
    const own = 3 * c.hiddenSize + 2 * c.hiddenSize * c.hiddenSize; // enorm, hnorm, shared_head.norm; eh_proj
    mtpUnique += own + l.total;
    mtpActive += own + l.active + 2 * embed;
  }
  const copies = c.numNextnPredictLayers * 2 * embed; // embed_tokens and shared_head.head, vocab × hidden each
  return {
    mainTotal,
    mainActive,
    mtpUnique,
    mtpActive,
    checkpointTotal: mainTotal + mtpUnique + copies,
  };
}
