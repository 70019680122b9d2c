// Random-weight DeepSeek-V3-shaped models for speed runs, built straight into the engine's weight structs:
// random E4M3 codes (never NaN) and block scales instead of quantizing random floats in JS, so a model of
// a few hundred million parameters is ready in seconds. Speed does not depend on the values; use
// generateSyntheticDeepSeek for anything that checks outputs.
import {
  isMoeLayer,
  parseDeepSeekConfig,
  deepSeekConfigToJson,
  qkHeadDim,
  type DeepSeekConfig,
} from '../engine/deepseek/config';
import type { Linear } from '../engine/deepseek/linear';
import type { MlpWeights } from '../engine/deepseek/moe';
import { SYNTHETIC_DEEPSEEK_CONFIG } from '../engine/deepseek/synthetic';
import type { BlockWeights, DeepSeekWeights } from '../engine/deepseek/weights';
import { prng } from '../tests/ops/case';

/** A DeepSeek-V3-shaped model of ~0.7 B parameters (FP8 projections ≈ 0.7 GB): 4 layers, 64 experts top-6. */
export const BENCH_MEDIUM_CONFIG: Partial<DeepSeekConfig> = {
  vocabSize: 8192,
  hiddenSize: 2048,
  intermediateSize: 5632,
  moeIntermediateSize: 512,
  numHiddenLayers: 4,
  numAttentionHeads: 16,
  qLoraRank: 768,
  kvLoraRank: 512,
  qkNopeHeadDim: 128,
  qkRopeHeadDim: 64,
  vHeadDim: 128,
  nRoutedExperts: 64,
  nSharedExperts: 1,
  numExpertsPerTok: 6,
  nGroup: 8,
  topkGroup: 4,
  firstKDenseReplace: 1,
  maxPositionEmbeddings: 4096,
  numNextnPredictLayers: 0,
};

export function benchConfig(overrides: Partial<DeepSeekConfig>): DeepSeekConfig {
  return parseDeepSeekConfig(
    deepSeekConfigToJson({ ...SYNTHETIC_DEEPSEEK_CONFIG, numNextnPredictLayers: 0, ...overrides }),
  );
}

export function randomDeepSeekWeights(c: DeepSeekConfig, seed = 1): DeepSeekWeights {
  const r = prng(seed);
  const floats = (n: number, scale: number, offset = 0) =>
    Float32Array.from({ length: n }, () => offset + scale * (2 * r() - 1));
  const fp8 = (rows: number, cols: number): Linear => {
    const q = new Uint8Array(rows * cols);
    for (let i = 0; i < q.length; i += 4) {
      const v = (r() * 0x100000000) >>> 0;
      q[i] = v & 0xef; // bit 4 clear: never 0x7F / 0xFF (NaN)
      q[i + 1] = (v >>> 8) & 0xef;
      q[i + 2] = (v >>> 16) & 0xef;
      q[i + 3] = (v >>> 24) & 0xef;
    }
    const scaleInv = floats(
      Math.ceil(rows / 128) * Math.ceil(cols / 128),
      0.2 / (448 * Math.sqrt(cols)),
      0.5 / (448 * Math.sqrt(cols)),
    );
    return { kind: 'fp8', rows, cols, weight: { q, scaleInv }, block: [128, 128] };
  };
  const mlp = (inter: number): MlpWeights => ({
    gate: fp8(inter, c.hiddenSize),
    up: fp8(inter, c.hiddenSize),
    down: fp8(c.hiddenSize, inter),
  });
  const h = c.hiddenSize,
    H = c.numAttentionHeads,
    qk = qkHeadDim(c),
    norm = () => floats(h, 0.1, 1);
  const layers = Array.from({ length: c.numHiddenLayers }, (_, l): BlockWeights => ({
    attnNorm: norm(),
    mla: {
      qA: c.qLoraRank ? fp8(c.qLoraRank, h) : null,
      qANorm: c.qLoraRank ? floats(c.qLoraRank, 0.1, 1) : null,
      qB: c.qLoraRank ? fp8(H * qk, c.qLoraRank) : null,
      q: c.qLoraRank ? null : fp8(H * qk, h),
      kvA: fp8(c.kvLoraRank + c.qkRopeHeadDim, h),
      kvANorm: floats(c.kvLoraRank, 0.1, 1),
      kvB: floats(H * (c.qkNopeHeadDim + c.vHeadDim) * c.kvLoraRank, 1 / Math.sqrt(c.kvLoraRank)),
      o: fp8(h, H * c.vHeadDim),
    },
    ffnNorm: norm(),
    dense: isMoeLayer(c, l) ? null : mlp(c.intermediateSize),
    moe: !isMoeLayer(c, l)
      ? null
      : {
          router: floats(c.nRoutedExperts * h, 1 / Math.sqrt(h)),
          bias: floats(c.nRoutedExperts, 0.05),
          experts: Array.from({ length: c.nRoutedExperts }, () => mlp(c.moeIntermediateSize)),
          shared: c.nSharedExperts > 0 ? mlp(c.nSharedExperts * c.moeIntermediateSize) : null,
        },
  }));
  return {
    config: c,
    embed: floats(c.vocabSize * h, 1),
    layers,
    norm: norm(),
    lmHead: {
      kind: 'f32',
      rows: c.vocabSize,
      cols: h,
      w: floats(c.vocabSize * h, 1 / Math.sqrt(h)),
    },
    mtp: [],
  };
}
