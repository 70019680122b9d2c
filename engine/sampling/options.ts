// The sampling controls of the OpenAI/DeepSeek APIs, as the engine takes them. Absent fields are off;
// with only temperature/topP/seed set, sampling is llama2.c run.c's, bit for bit (engine/sampling/sampler.ts).
import type { Constraint } from './constraint';

export interface SamplingOptions {
  /** 0 = greedy (argmax of the processed logits). */
  temperature: number;
  /** Nucleus mass; ≥ 1 is off. */
  topP: number;
  /** Same seed, same tokens; random when absent. */
  seed?: number;
  /** Keep only the k most likely tokens (0 or absent: off). */
  topK?: number;
  /** Drop tokens whose probability is under minP × the top token's (0 or absent: off). */
  minP?: number;
  /** OpenAI: logit[t] -= presence if t was generated so far (-2..2). */
  presencePenalty?: number;
  /** OpenAI: logit[t] -= frequency × times t was generated so far (-2..2). */
  frequencyPenalty?: number;
  /** Added to the logits of these token ids before sampling (-100..100; -100 bans, 100 forces). */
  logitBias?: Record<number, number>;
  /**
   * Report each sampled token's log-probability and this many alternatives (0..20); absent: none.
   * Log-probabilities are of the model's distribution (softmax of the raw logits), as vLLM reports by default.
   */
  logprobs?: number;
  /**
   * Constrained decoding (engine/sampling/constraint.ts): tokens the constraint forbids are masked
   * out before every sampled or greedy pick, and each pick is fed to it. One per generation.
   */
  constraint?: Constraint;
}

export interface TokenLogprob {
  id: number;
  logprob: number;
}

export interface SampledLogprobs {
  /** The sampled token's. */
  logprob: number;
  /** The most likely tokens, most likely first (logprobs of them). */
  top: TokenLogprob[];
}

/** True when an option beyond run.c's temperature/top-p is on. */
export function hasExtras(o: SamplingOptions): boolean {
  return !!(
    o.topK ||
    o.minP ||
    o.presencePenalty ||
    o.frequencyPenalty ||
    (o.logitBias && Object.keys(o.logitBias).length)
  );
}
