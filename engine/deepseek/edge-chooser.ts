// Room: engine/deepseek (edge). Picks one sequence's tokens for DeepSeekEdgeModel, with or without
// speculation, the way the origin's Sequence does (origin/scheduler/sequence.ts): TokenSampler for plain
// decoding (greedy is its argmax), and under speculation greedy keeps a draft iff it is the main model's
// argmax while sampling keeps it by the rejection rule (engine/sampling/spec-sampler.ts), so greedy
// output is the same with MTP on or off and sampled output is distributed as without it.
import { logprobsOf } from '../sampling/logprobs';
import { hasExtras, type SampledLogprobs, type SamplingOptions } from '../sampling/options';
import { argmax } from '../sampling/sampler';
import { SpecSampler } from '../sampling/spec-sampler';
import { TokenSampler } from '../sampling/token-sampler';

export interface Chosen {
  id: number;
  logprobs?: SampledLogprobs;
}

export class EdgeChooser {
  private readonly sampler: TokenSampler;
  /** The rejection rule's sampler: speculation with temperature > 0 or extras; null otherwise. */
  private readonly spec: SpecSampler | null;

  constructor(
    vocabSize: number,
    private readonly o: SamplingOptions,
    speculative: boolean,
  ) {
    this.sampler = new TokenSampler(vocabSize, o);
    const sampling = o.temperature > 0 || hasExtras(o);
    this.spec = speculative && sampling ? new SpecSampler(vocabSize, o, this.sampler.seed) : null;
  }

  /** The next token from the main model's logits (no pending draft). */
  token(logits: Float32Array): Chosen {
    if (!this.spec) return { id: this.sampler.sample(logits), logprobs: this.sampler.lastLogprobs };
    return this.withLogprobs(logits, this.spec.sample(logits));
  }

  /** A draft from the MTP module's logits: their argmax when greedy, a draw from q when sampling. */
  draft(logits: Float32Array): number {
    return this.spec ? this.spec.draft(logits) : argmax(logits);
  }

  /** The token at the draft's position, from the main model's logits there, and whether the draft stands. */
  verify(logits: Float32Array, draft: number): Chosen & { accepted: boolean } {
    if (!this.spec) {
      const chosen = this.token(logits);
      return { ...chosen, accepted: chosen.id === draft };
    }
    const { id, accepted } = this.spec.verify(logits, draft);
    return { ...this.withLogprobs(logits, id), accepted };
  }

  private withLogprobs(logits: Float32Array, id: number): Chosen {
    const n = this.o.logprobs;
    return n === undefined ? { id } : { id, logprobs: logprobsOf(logits, id, n) };
  }
}
