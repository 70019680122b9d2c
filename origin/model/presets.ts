// Synthetic DeepSeek-V3-shaped models by name, for `--model synthetic:<preset>`, tests and benches.
// Random weights (engine/deepseek/synthetic.ts, FP8 E4M3 with 128×128 scales): they babble, but their
// shapes, routing and arithmetic are the real architecture's, and speed does not depend on values.
// Every preset has DeepSeek-V3's vocabulary (129,280 ids) and reads with its real tokenizer
// (origin/model/tokenizer.ts), so token counts, bills and cache blocks are DeepSeek's; the embedding and
// lm_head are then most of a small preset's weights, so hidden sizes stay small.
import type { DeepSeekConfig } from '../../engine/deepseek/config';
import { SYNTHETIC_DEEPSEEK_CONFIG } from '../../engine/deepseek/synthetic';

/** DeepSeek-V3's config.json vocab_size: the tokenizer's 128,815 ids, padded. */
export const DEEPSEEK_V3_VOCAB_SIZE = 129_280;

const TINY: Partial<DeepSeekConfig> = {
  vocabSize: DEEPSEEK_V3_VOCAB_SIZE,
  hiddenSize: 128,
  intermediateSize: 256,
  moeIntermediateSize: 64,
  numHiddenLayers: 2,
  numAttentionHeads: 2,
  qLoraRank: 64,
  kvLoraRank: 32,
  qkNopeHeadDim: 32,
  qkRopeHeadDim: 16,
  vHeadDim: 32,
  nRoutedExperts: 8,
  nSharedExperts: 1,
  numExpertsPerTok: 2,
  nGroup: 2,
  topkGroup: 1,
  firstKDenseReplace: 1,
  maxPositionEmbeddings: 2048,
  numNextnPredictLayers: 0,
};

export const SYNTHETIC_PRESETS: Record<
  string,
  { description: string; config: Partial<DeepSeekConfig> }
> = {
  tiny: {
    description:
      '2 layers (1 dense, 1 MoE: 8 routed experts top-2 + 1 shared), hidden 128, 2K context: for tests (embedding + lm_head: 33M parameters)',
    config: TINY,
  },
  small: {
    description:
      "engine/deepseek's synthetic shape: 4 layers (1 dense), 16 routed experts top-4 in 4 groups + 1 shared, hidden 256",
    config: {
      ...SYNTHETIC_DEEPSEEK_CONFIG,
      vocabSize: DEEPSEEK_V3_VOCAB_SIZE,
      maxPositionEmbeddings: 2048,
      numNextnPredictLayers: 0,
    },
  },
  // One MTP layer of random weights (its drafts are rarely the main model's tokens): speculative decoding's
  // mechanics, until a trained checkpoint exists.
  'tiny-mtp': {
    description: 'tiny plus one MTP layer (num_nextn_predict_layers 1): speculative decoding tests',
    config: { ...TINY, numNextnPredictLayers: 1 },
  },
  'small-mtp': {
    description:
      'small plus one MTP layer (num_nextn_predict_layers 1): speculative decoding benches',
    config: {
      ...SYNTHETIC_DEEPSEEK_CONFIG,
      vocabSize: DEEPSEEK_V3_VOCAB_SIZE,
      maxPositionEmbeddings: 2048,
      numNextnPredictLayers: 1,
    },
  },
  medium: {
    description:
      '8 layers (1 dense), 64 routed experts top-6 in 8 groups + 1 shared, hidden 1024, 1K context: for benches (embedding + lm_head: 265M parameters; minutes to generate)',
    config: {
      ...SYNTHETIC_DEEPSEEK_CONFIG,
      vocabSize: DEEPSEEK_V3_VOCAB_SIZE,
      hiddenSize: 1024,
      intermediateSize: 2816,
      moeIntermediateSize: 256,
      numHiddenLayers: 8,
      numAttentionHeads: 8,
      qLoraRank: 384,
      kvLoraRank: 256,
      qkNopeHeadDim: 64,
      qkRopeHeadDim: 32,
      vHeadDim: 64,
      nRoutedExperts: 64,
      nSharedExperts: 1,
      numExpertsPerTok: 6,
      nGroup: 8,
      topkGroup: 4,
      // 1K positions: the CPU backend's f32 latent caches take 16 slots × 8 layers × 288 × 4 B per position.
      maxPositionEmbeddings: 1024,
      numNextnPredictLayers: 0,
    },
  },
};
