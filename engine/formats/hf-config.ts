// config.json of a Hugging Face Llama or Qwen2 model ↔ the engine's LlamaConfig. Only the fields
// these two architectures use are read; anything the engine cannot run is refused with its name.
import type { LlamaConfig, RopeScaling } from '../llama/config';

export type HfArchitecture = 'llama' | 'qwen2';

export class HfConfigError extends Error {
  override name = 'HfConfigError';
}

/** The engine config plus what the files say beyond it. */
export interface HfModelConfig extends LlamaConfig {
  architecture: HfArchitecture;
  /** The context the model was trained for (seqLen may be capped below it). */
  maxPositionEmbeddings: number;
  bosTokenId: number | null;
  eosTokenIds: number[];
}

const ARCHITECTURES: Record<string, HfArchitecture> = { llama: 'llama', qwen2: 'qwen2' };

/** Reads config.json; `contextLength` caps seqLen (the KV cache is allocated for seqLen positions). */
export function parseHfConfig(json: unknown, contextLength?: number): HfModelConfig {
  if (typeof json !== 'object' || json === null)
    throw new HfConfigError('config.json is not a JSON object');
  const j = json as Record<string, unknown>;
  const architecture = ARCHITECTURES[String(j.model_type)];
  if (!architecture)
    throw new HfConfigError(
      `config.json: model_type ${JSON.stringify(j.model_type)} is not supported (llama, qwen2)`,
    );
  const int = (name: string, fallback?: number): number => {
    const v = j[name] ?? fallback;
    if (!Number.isSafeInteger(v) || (v as number) <= 0)
      throw new HfConfigError(
        `config.json: ${name} must be a positive integer, got ${JSON.stringify(j[name])}`,
      );
    return v as number;
  };
  const num = (name: string, fallback: number): number => {
    const v = j[name] ?? fallback;
    if (typeof v !== 'number' || !(v > 0))
      throw new HfConfigError(
        `config.json: ${name} must be a positive number, got ${JSON.stringify(v)}`,
      );
    return v;
  };
  const dim = int('hidden_size');
  const nHeads = int('num_attention_heads');
  const nKvHeads = int('num_key_value_heads', nHeads);
  const headDim = int('head_dim', dim / nHeads);
  if (nHeads % nKvHeads !== 0)
    throw new HfConfigError(
      `config.json: num_attention_heads ${nHeads} is not a multiple of num_key_value_heads ${nKvHeads}`,
    );
  if (headDim % 2 !== 0)
    throw new HfConfigError(`config.json: head_dim ${headDim} must be even for RoPE`);
  if (j.mlp_bias === true) throw new HfConfigError('config.json: mlp_bias is not supported');
  if (architecture === 'llama' && j.attention_bias === true)
    throw new HfConfigError('config.json: attention_bias (o_proj bias) is not supported for llama');
  if (j.hidden_act !== undefined && j.hidden_act !== 'silu')
    throw new HfConfigError(
      `config.json: hidden_act ${JSON.stringify(j.hidden_act)} is not supported (silu)`,
    );
  const maxPositionEmbeddings = int('max_position_embeddings', 2048);
  const eos = j.eos_token_id;
  return {
    architecture,
    dim,
    hiddenDim: int('intermediate_size'),
    nLayers: int('num_hidden_layers'),
    nHeads,
    nKvHeads,
    vocabSize: int('vocab_size'),
    seqLen: Math.min(maxPositionEmbeddings, contextLength ?? maxPositionEmbeddings),
    headDim,
    ropeTheta: num('rope_theta', 10000),
    normEps: num('rms_norm_eps', 1e-6),
    // LlamaConfig and Qwen2Config both default tie_word_embeddings to false
    sharedClassifier: j.tie_word_embeddings === true,
    qkvBias: architecture === 'qwen2',
    ropeScaling: parseRopeScaling(j.rope_scaling),
    maxPositionEmbeddings,
    bosTokenId: typeof j.bos_token_id === 'number' ? j.bos_token_id : null,
    eosTokenIds:
      typeof eos === 'number'
        ? [eos]
        : Array.isArray(eos)
          ? eos.filter((e): e is number => typeof e === 'number')
          : [],
  };
}

function parseRopeScaling(raw: unknown): RopeScaling | null {
  if (raw === undefined || raw === null) return null;
  const r = raw as Record<string, unknown>;
  const type = r.rope_type ?? r.type;
  const factor = Number(r.factor);
  if (type === 'default') return null;
  if (!(factor > 0))
    throw new HfConfigError(
      `config.json: rope_scaling.factor must be positive, got ${JSON.stringify(r.factor)}`,
    );
  if (type === 'linear') return { type, factor };
  if (type === 'llama3') {
    return {
      type,
      factor,
      lowFreqFactor: Number(r.low_freq_factor ?? 1),
      highFreqFactor: Number(r.high_freq_factor ?? 4),
      originalMaxPositionEmbeddings: Number(r.original_max_position_embeddings ?? 8192),
    };
  }
  throw new HfConfigError(
    `config.json: rope_scaling type ${JSON.stringify(type)} is not supported (linear, llama3)`,
  );
}

/** config.json for a LlamaConfig, as transformers writes it for LlamaForCausalLM / Qwen2ForCausalLM. */
export function hfConfigJson(
  c: LlamaConfig,
  architecture: HfArchitecture,
  extra: {
    bosTokenId?: number | null;
    eosTokenIds?: number[];
    maxPositionEmbeddings?: number;
  } = {},
): Record<string, unknown> {
  const eos = extra.eosTokenIds ?? [];
  const s = c.ropeScaling;
  return {
    architectures: [architecture === 'llama' ? 'LlamaForCausalLM' : 'Qwen2ForCausalLM'],
    model_type: architecture,
    hidden_size: c.dim,
    intermediate_size: c.hiddenDim,
    num_hidden_layers: c.nLayers,
    num_attention_heads: c.nHeads,
    num_key_value_heads: c.nKvHeads,
    head_dim: c.headDim,
    vocab_size: c.vocabSize,
    max_position_embeddings: extra.maxPositionEmbeddings ?? c.seqLen,
    rms_norm_eps: c.normEps,
    rope_theta: c.ropeTheta,
    rope_scaling: !s
      ? null
      : s.type === 'linear'
        ? { rope_type: 'linear', factor: s.factor }
        : {
            rope_type: 'llama3',
            factor: s.factor,
            low_freq_factor: s.lowFreqFactor,
            high_freq_factor: s.highFreqFactor,
            original_max_position_embeddings: s.originalMaxPositionEmbeddings,
          },
    tie_word_embeddings: c.sharedClassifier,
    hidden_act: 'silu',
    ...(architecture === 'llama' ? { attention_bias: false, mlp_bias: false } : {}),
    bos_token_id: extra.bosTokenId ?? null,
    eos_token_id: eos.length === 1 ? eos[0] : eos.length ? eos : null,
    torch_dtype: 'float32',
  };
}
