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
}

/** A config from the seven llama2.c header fields, with llama2.c's fixed RoPE theta and norm eps. */
export function llamaConfig(
  c: Pick<LlamaConfig, 'dim' | 'hiddenDim' | 'nLayers' | 'nHeads' | 'nKvHeads' | 'vocabSize' | 'seqLen'> &
    Partial<Pick<LlamaConfig, 'sharedClassifier'>>,
): LlamaConfig {
  return { ...c, headDim: c.dim / c.nHeads, ropeTheta: 10000, normEps: 1e-5, sharedClassifier: c.sharedClassifier ?? true };
}
