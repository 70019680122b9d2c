import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DeepSeekConfigError,
  deepSeekConfigToJson,
  isMoeLayer,
  parseDeepSeekConfig,
} from '../../../engine/deepseek/config';
import { countDeepSeekParams } from '../../../engine/deepseek/param-count';
import { mlaSoftmaxScale, ropeInvFreq, yarnCorrectionRange } from '../../../engine/deepseek/rope';

// DeepSeek-V3's public config.json (HF), values typed in by hand.
const raw = JSON.parse(
  readFileSync(new URL('../../fixtures/deepseek/config-671b.json', import.meta.url), 'utf8'),
);

describe('DeepSeek-V3 config', () => {
  const c = parseDeepSeekConfig(raw);

  it('parses the 671B config into camelCase fields', () => {
    expect(c).toMatchObject({
      hiddenSize: 7168,
      numHiddenLayers: 61,
      numAttentionHeads: 128,
      qLoraRank: 1536,
      kvLoraRank: 512,
      qkNopeHeadDim: 128,
      qkRopeHeadDim: 64,
      vHeadDim: 128,
      nRoutedExperts: 256,
      nSharedExperts: 1,
      numExpertsPerTok: 8,
      nGroup: 8,
      topkGroup: 4,
      firstKDenseReplace: 3,
      scoringFunc: 'sigmoid',
      topkMethod: 'noaux_tc',
      routedScalingFactor: 2.5,
      normTopkProb: true,
      numNextnPredictLayers: 1,
      vocabSize: 129280,
      eosTokenId: 1,
    });
    expect(c.ropeScaling).toEqual({
      type: 'yarn',
      factor: 40,
      originalMaxPositionEmbeddings: 4096,
      betaFast: 32,
      betaSlow: 1,
      mscale: 1,
      mscaleAllDim: 1,
    });
    expect(c.quantization).toEqual({
      quantMethod: 'fp8',
      fmt: 'e4m3',
      activationScheme: 'dynamic',
      weightBlockSize: [128, 128],
    });
    expect([0, 2, 3, 60, 61].map((l) => isMoeLayer(c, l))).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
  });

  it('counts ~671B total / ~37B active, and 685B with the MTP module as stored on HF', () => {
    const p = countDeepSeekParams(c);
    expect(p.mainTotal).toBe(671_026_419_200);
    expect(Math.abs(p.mainTotal / 671e9 - 1)).toBeLessThan(0.001);
    // DeepSeek quotes 37B active (36.7B in README_WEIGHTS); ours counts embedding and head in full: 37.55B.
    expect(p.mainActive).toBeGreaterThan(36.5e9);
    expect(p.mainActive).toBeLessThan(38e9);
    expect(Math.abs(p.mtpUnique / 11.5e9 - 1)).toBeLessThan(0.02); // README_WEIGHTS: 11.5B unique
    expect(Math.abs(p.checkpointTotal / 685e9 - 1)).toBeLessThan(0.005); // 671B + MTP 14B
  });

  it('round-trips through config.json', () => {
    expect(parseDeepSeekConfig(JSON.parse(JSON.stringify(deepSeekConfigToJson(c))))).toEqual(c);
  });

  it('accepts a plain q_proj (q_lora_rank null) and no rope scaling', () => {
    const d = parseDeepSeekConfig({
      ...raw,
      q_lora_rank: null,
      rope_scaling: null,
      quantization_config: undefined,
    });
    expect(d.qLoraRank).toBeNull();
    expect(d.ropeScaling).toBeNull();
    expect(d.quantization).toBeNull();
  });

  it('names every bad field', () => {
    const bad = (patch: object) => () => parseDeepSeekConfig({ ...raw, ...patch });
    expect(bad({ hidden_size: -1 })).toThrow(/hidden_size: Too small/);
    expect(bad({ n_group: 3 })).toThrow(/n_group: must divide n_routed_experts \(256\)/);
    expect(bad({ topk_group: 9 })).toThrow(/topk_group: must be ≤ n_group/);
    expect(bad({ rope_scaling: { ...raw.rope_scaling, type: 'linear' } })).toThrow(/rope_scaling/);
    expect(bad({ quantization_config: { ...raw.quantization_config, fmt: 'e5m2' } })).toThrow(
      /quantization_config\.fmt/,
    );
    expect(bad({ qk_rope_head_dim: 63 })).toThrow(DeepSeekConfigError);
    expect(() => parseDeepSeekConfig({})).toThrow(/vocab_size[\s\S]*max_position_embeddings/);
  });

  it('derives YaRN corrections by hand-checkable formulas', () => {
    // dim·ln(4096/(2π·32)) / (2·ln 10000) = 10.47 → floor 10; with 1 rotation 22.5 → ceil 23.
    expect(yarnCorrectionRange(64, 10000, c.ropeScaling!)).toEqual([10, 23]);
    const inv = ropeInvFreq(64, 10000, c.ropeScaling!);
    expect(inv[0]).toBe(1); // fast dims extrapolate (unchanged)
    expect(inv[10]).toBeCloseTo(10000 ** (-20 / 64), 15);
    expect(inv[31]).toBeCloseTo(10000 ** (-62 / 64) / 40, 15); // slow dims interpolate (÷ factor)
    const m = 0.1 * Math.log(40) + 1;
    expect(mlaSoftmaxScale(c)).toBeCloseTo((m * m) / Math.sqrt(192), 15);
  });
});
