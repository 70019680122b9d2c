// Room: engine. What the routes need of a loaded model, whatever its architecture: a tokenizer, its
// context and vocabulary, and generate() (prompt ids in, a stream of decoded tokens out). LlamaModel
// (engine/llama/model.ts) and DeepSeekEdgeModel (engine/deepseek/edge-model.ts) implement it, so
// routes/generation.ts and routes/plan.ts never ask which one they hold.
import type { GenerateOptions, GeneratedToken, GenerationResult } from './llama/model';
import type { SampledLogprobs } from './sampling/options';
import type { TextTokenizer } from './tokenizers/types';

export type { GenerateOptions, GeneratedToken, GenerationResult };

export interface TextEngine {
  readonly id: string;
  /** seqLen: positions a generation may reach (prompt + completion); vocabSize: logits per step. */
  readonly config: { readonly seqLen: number; readonly vocabSize: number };
  readonly tokenizer: TextTokenizer;
  /**
   * Feeds the prompt, then yields up to opts.maxTokens sampled tokens with their text (stop strings
   * held back and never emitted, a stop token last with its text ''), and returns the finish reason
   * and token counts. opts.restore / opts.capture are the prompt cache's: an engine without one
   * (EdgeModel.kvShape null) is never given them.
   */
  generate(
    promptIds: number[],
    opts: GenerateOptions,
  ): AsyncGenerator<GeneratedToken, GenerationResult>;
  /**
   * Admits a request that will call generate() right away (null), or says why not and when to retry
   * (every session busy and the wait queue full: LlamaModel's maxSessions / maxQueue). An engine
   * without it admits everything.
   */
  admit?(): { reason: string; retryAfterMs: number } | null;
  /** An admitted request that will not generate after all gives its place back. */
  withdraw?(): void;
  /**
   * Each prompt token's log-probability after those before it (null for the first), with the `top`
   * most likely alternatives: a completion's echo with logprobs. Absent where the engine cannot
   * compute a prompt position's logits (the routes then refuse the request).
   */
  scorePrompt?(
    promptIds: number[],
    top: number,
    signal?: AbortSignal,
  ): Promise<(SampledLogprobs | null)[]>;
}
