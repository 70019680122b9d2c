// The shape of a dense Llama model, as the engine sees it (llama2.c names in camelCase).

export interface LlamaConfig {
  dim: number;
  hiddenDim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  vocabSize: number;
  seqLen: number;
  /** dim / nHeads */
  headDim: number;
  ropeTheta: number;
  normEps: number;
  /** The classifier is the token embedding (llama2.c: a positive vocab_size in the header). */
  sharedClassifier: boolean;
  /** Qwen2: the q, k and v projections carry a bias. Absent: none. */
  qkvBias?: boolean;
  /** RoPE frequency scaling (Llama 3's or linear); absent: plain theta^(-2i/headDim). */
  ropeScaling?: RopeScaling | null;
}

/** HF `rope_scaling`, the kinds the engine computes (the frequencies are a table, see engine/llama/rope.ts). */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  | {
      type: 'llama3';
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositionEmbeddings: number;
    };

/** A config from the seven llama2.c header fields, with llama2.c's fixed RoPE theta and norm eps. */
export function llamaConfig(
  c: Pick<
    LlamaConfig,
    'dim' | 'hiddenDim' | 'nLayers' | 'nHeads' | 'nKvHeads' | 'vocabSize' | 'seqLen'
  > &
    Partial<Pick<LlamaConfig, 'sharedClassifier'>>,
): LlamaConfig {
  return {
    ...c,
    headDim: c.dim / c.nHeads,
    ropeTheta: 10000,
    normEps: 1e-5,
    sharedClassifier: c.sharedClassifier ?? true,
  };
}
