// The DeepSeek-V3 architecture's config.json (Hugging Face layout, snake_case) validated with zod and
// turned into the engine's typed, camelCase DeepSeekConfig. Defaults follow transformers' DeepseekV3Config
// for fields that older or smaller checkpoints leave out.
import { z } from 'zod';

export class DeepSeekConfigError extends Error {
  override name = 'DeepSeekConfigError';
}

export interface YarnRopeScaling {
  type: 'yarn';
  factor: number;
  originalMaxPositionEmbeddings: number;
  betaFast: number;
  betaSlow: number;
  mscale: number;
  mscaleAllDim: number;
}

export interface Fp8Quantization {
  quantMethod: 'fp8';
  fmt: 'e4m3';
  activationScheme: 'dynamic';
  /** [rows, cols] of one weight block sharing a `weight_scale_inv`. */
  weightBlockSize: [number, number];
}

export interface DeepSeekConfig {
  vocabSize: number;
  hiddenSize: number;
  /** Width of the dense MLP of the first `firstKDenseReplace` layers. */
  intermediateSize: number;
  moeIntermediateSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  /** null: queries come from a plain q_proj (no low-rank q). */
  qLoraRank: number | null;
  kvLoraRank: number;
  qkNopeHeadDim: number;
  qkRopeHeadDim: number;
  vHeadDim: number;
  nRoutedExperts: number;
  nSharedExperts: number;
  numExpertsPerTok: number;
  nGroup: number;
  topkGroup: number;
  firstKDenseReplace: number;
  moeLayerFreq: number;
  scoringFunc: 'sigmoid' | 'softmax';
  topkMethod: 'noaux_tc' | 'greedy' | 'group_limited_greedy';
  routedScalingFactor: number;
  normTopkProb: boolean;
  ropeTheta: number;
  ropeScaling: YarnRopeScaling | null;
  maxPositionEmbeddings: number;
  rmsNormEps: number;
  tieWordEmbeddings: boolean;
  numNextnPredictLayers: number;
  quantization: Fp8Quantization | null;
  bosTokenId: number | null;
  /** The first one, when config.json lists several. */
  eosTokenId: number | null;
}

const count = z.number().int().positive();
const yarnSchema = z
  .object({
    type: z.literal('yarn').optional(),
    rope_type: z.literal('yarn').optional(),
    factor: z.number().positive(),
    original_max_position_embeddings: count,
    beta_fast: z.number().positive().default(32),
    beta_slow: z.number().positive().default(1),
    mscale: z.number().default(1),
    mscale_all_dim: z.number().default(0),
  })
  .refine((r) => r.type === 'yarn' || r.rope_type === 'yarn', {
    message: 'only YaRN rope scaling is supported (type: "yarn")',
  });

const quantSchema = z.object({
  quant_method: z.literal('fp8'),
  fmt: z.literal('e4m3'),
  activation_scheme: z.literal('dynamic'),
  weight_block_size: z.tuple([count, count]),
});

const schema = z
  .object({
    vocab_size: count,
    hidden_size: count,
    intermediate_size: count,
    moe_intermediate_size: count,
    num_hidden_layers: count,
    num_attention_heads: count,
    q_lora_rank: count.nullable().default(null),
    kv_lora_rank: count,
    qk_nope_head_dim: count,
    qk_rope_head_dim: count.refine((d) => d % 2 === 0, 'must be even (rotary pairs)'),
    v_head_dim: count,
    n_routed_experts: count,
    n_shared_experts: z.number().int().nonnegative().default(0),
    num_experts_per_tok: count,
    n_group: count.default(1),
    topk_group: count.default(1),
    first_k_dense_replace: z.number().int().nonnegative().default(0),
    moe_layer_freq: count.default(1),
    scoring_func: z.enum(['sigmoid', 'softmax']).default('sigmoid'),
    topk_method: z.enum(['noaux_tc', 'greedy', 'group_limited_greedy']).default('noaux_tc'),
    routed_scaling_factor: z.number().positive().default(1),
    norm_topk_prob: z.boolean().default(true),
    rope_theta: z.number().positive().default(10000),
    rope_scaling: yarnSchema.nullable().default(null),
    max_position_embeddings: count,
    rms_norm_eps: z.number().positive().default(1e-6),
    tie_word_embeddings: z.boolean().default(false),
    num_nextn_predict_layers: z.number().int().nonnegative().default(0),
    quantization_config: quantSchema.nullable().default(null),
    bos_token_id: z.number().int().nonnegative().nullable().default(null),
    eos_token_id: z
      .union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative()).min(1)])
      .nullable()
      .default(null),
  })
  .superRefine((c, ctx) => {
    const bad = (path: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [path], message });
    if (c.n_routed_experts % c.n_group !== 0)
      bad('n_group', `must divide n_routed_experts (${c.n_routed_experts})`);
    if (c.topk_group > c.n_group) bad('topk_group', `must be ≤ n_group (${c.n_group})`);
    const reachable = (c.n_routed_experts / c.n_group) * c.topk_group;
    if (c.num_experts_per_tok > reachable)
      bad('num_experts_per_tok', `must be ≤ experts in the kept groups (${reachable})`);
    if (c.topk_method === 'noaux_tc' && c.n_routed_experts / c.n_group < 2)
      bad('n_group', 'noaux_tc scores groups by their top-2: groups need ≥ 2 experts');
  });

/** Validates a parsed config.json; throws DeepSeekConfigError listing every bad field. */
export function parseDeepSeekConfig(json: unknown): DeepSeekConfig {
  const r = schema.safeParse(json);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new DeepSeekConfigError(`invalid DeepSeek-V3 config.json:\n${lines.join('\n')}`);
  }
  const c = r.data;
  const rs = c.rope_scaling;
  const qc = c.quantization_config;
  return {
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    intermediateSize: c.intermediate_size,
    moeIntermediateSize: c.moe_intermediate_size,
    numHiddenLayers: c.num_hidden_layers,
    numAttentionHeads: c.num_attention_heads,
    qLoraRank: c.q_lora_rank,
    kvLoraRank: c.kv_lora_rank,
    qkNopeHeadDim: c.qk_nope_head_dim,
    qkRopeHeadDim: c.qk_rope_head_dim,
    vHeadDim: c.v_head_dim,
    nRoutedExperts: c.n_routed_experts,
    nSharedExperts: c.n_shared_experts,
    numExpertsPerTok: c.num_experts_per_tok,
    nGroup: c.n_group,
    topkGroup: c.topk_group,
    firstKDenseReplace: c.first_k_dense_replace,
    moeLayerFreq: c.moe_layer_freq,
    scoringFunc: c.scoring_func,
    topkMethod: c.topk_method,
    routedScalingFactor: c.routed_scaling_factor,
    normTopkProb: c.norm_topk_prob,
    ropeTheta: c.rope_theta,
    ropeScaling: rs && {
      type: 'yarn',
      factor: rs.factor,
      originalMaxPositionEmbeddings: rs.original_max_position_embeddings,
      betaFast: rs.beta_fast,
      betaSlow: rs.beta_slow,
      mscale: rs.mscale,
      mscaleAllDim: rs.mscale_all_dim,
    },
    maxPositionEmbeddings: c.max_position_embeddings,
    rmsNormEps: c.rms_norm_eps,
    tieWordEmbeddings: c.tie_word_embeddings,
    numNextnPredictLayers: c.num_nextn_predict_layers,
    quantization: qc && {
      quantMethod: 'fp8',
      fmt: 'e4m3',
      activationScheme: 'dynamic',
      weightBlockSize: qc.weight_block_size,
    },
    bosTokenId: c.bos_token_id,
    eosTokenId: Array.isArray(c.eos_token_id) ? c.eos_token_id[0] : c.eos_token_id,
  };
}

/** The inverse of parseDeepSeekConfig: the config.json object a checkpoint ships. */
export function deepSeekConfigToJson(c: DeepSeekConfig): Record<string, unknown> {
  const rs = c.ropeScaling;
  const q = c.quantization;
  return {
    architectures: ['DeepseekV3ForCausalLM'],
    model_type: 'deepseek_v3',
    hidden_act: 'silu',
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    moe_intermediate_size: c.moeIntermediateSize,
    num_hidden_layers: c.numHiddenLayers,
    num_attention_heads: c.numAttentionHeads,
    num_key_value_heads: c.numAttentionHeads,
    q_lora_rank: c.qLoraRank,
    kv_lora_rank: c.kvLoraRank,
    qk_nope_head_dim: c.qkNopeHeadDim,
    qk_rope_head_dim: c.qkRopeHeadDim,
    v_head_dim: c.vHeadDim,
    n_routed_experts: c.nRoutedExperts,
    n_shared_experts: c.nSharedExperts,
    num_experts_per_tok: c.numExpertsPerTok,
    n_group: c.nGroup,
    topk_group: c.topkGroup,
    first_k_dense_replace: c.firstKDenseReplace,
    moe_layer_freq: c.moeLayerFreq,
    scoring_func: c.scoringFunc,
    topk_method: c.topkMethod,
    routed_scaling_factor: c.routedScalingFactor,
    norm_topk_prob: c.normTopkProb,
    rope_theta: c.ropeTheta,
    rope_scaling: rs && {
      type: 'yarn',
      factor: rs.factor,
      original_max_position_embeddings: rs.originalMaxPositionEmbeddings,
      beta_fast: rs.betaFast,
      beta_slow: rs.betaSlow,
      mscale: rs.mscale,
      mscale_all_dim: rs.mscaleAllDim,
    },
    max_position_embeddings: c.maxPositionEmbeddings,
    rms_norm_eps: c.rmsNormEps,
    tie_word_embeddings: c.tieWordEmbeddings,
    num_nextn_predict_layers: c.numNextnPredictLayers,
    quantization_config: q && {
      quant_method: 'fp8',
      fmt: 'e4m3',
      activation_scheme: 'dynamic',
      weight_block_size: q.weightBlockSize,
    },
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenId,
  };
}

export function qkHeadDim(c: DeepSeekConfig): number {
  return c.qkNopeHeadDim + c.qkRopeHeadDim;
}

/** Whether layer i (main layers, then MTP layers numbered after them) has a routed-expert MLP. */
export function isMoeLayer(c: DeepSeekConfig, layer: number): boolean {
  return layer >= c.firstKDenseReplace && layer % c.moeLayerFreq === 0;
}
