// Picks each next token under the full set of API controls: logit_bias and presence/frequency
// penalties on the logits, then temperature, top_k, min_p and top_p, drawn with run.c's xorshift
// generator. With none of the extras on it is run.c's sampler itself (engine/sampling/sampler.ts), so the
// llama2.c goldens stay exact. Buffers are allocated once per generation, none per token.
import {
  Sampler,
  XorShiftRng,
  argmax,
  radixScratch,
  softmaxF32,
  sortByProbDesc,
  type RadixScratch,
} from './sampler';
import { applyMask } from '../grammar/matcher';
import { logprobsOf } from './logprobs';
import { hasExtras, type SampledLogprobs, type SamplingOptions } from './options';

export class TokenSampler {
  readonly seed: number;
  /** The last sampled token's log-probabilities, when options.logprobs asked for them. */
  lastLogprobs: SampledLogprobs | undefined;
  private readonly runc: Sampler;
  private readonly extras: boolean;
  private readonly rng: XorShiftRng;
  private readonly work: Float32Array;
  private readonly counts: Uint32Array;
  private readonly order: Int32Array;
  private mask: Uint32Array | null = null;
  private masked: Float32Array | null = null;
  private readonly radix: RadixScratch | null;

  constructor(
    vocabSize: number,
    private readonly o: SamplingOptions,
  ) {
    this.runc = new Sampler(vocabSize, o);
    this.seed = this.runc.seed;
    this.extras = hasExtras(o);
    this.rng = new XorShiftRng(this.seed);
    this.work = new Float32Array(this.extras ? vocabSize : 0);
    this.counts = new Uint32Array(o.presencePenalty || o.frequencyPenalty ? vocabSize : 0);
    this.order = new Int32Array(this.extras ? vocabSize : 0);
    this.radix = this.extras ? radixScratch(vocabSize) : null;
  }

  /**
   * The next token from logits[vocabSize] (not modified); it counts as generated for the penalties.
   * Under a constraint the forbidden tokens are masked out first and the pick is fed to it; -1 is
   * a dead end (the constraint allows no token): the caller ends the generation.
   */
  sample(logits: Float32Array): number {
    const c = this.o.constraint;
    let input = logits;
    if (c && (c.active?.() ?? true)) {
      this.mask ??= new Uint32Array(c.maskWords);
      if (!c.fillMask(this.mask)) return -1;
      this.masked ??= new Float32Array(logits.length);
      this.masked.set(logits);
      applyMask(this.masked, this.mask);
      input = this.masked;
    }
    let id = this.extras ? this.sampleWithExtras(input) : this.runc.sample(input);
    // f32 rounding in an inverse CDF can land on the last id; under a mask that must not escape it.
    if (input !== logits && input[id] === -Infinity) id = argmax(input);
    if (c && !c.accept(id)) return -1;
    if (this.counts.length) this.counts[id]++;
    this.lastLogprobs =
      this.o.logprobs === undefined ? undefined : logprobsOf(logits, id, this.o.logprobs);
    return id;
  }

  private sampleWithExtras(logits: Float32Array): number {
    const w = this.work;
    w.set(logits);
    for (const [id, bias] of Object.entries(this.o.logitBias ?? {}))
      if (+id >= 0 && +id < w.length) w[+id] += bias;
    const presence = this.o.presencePenalty ?? 0,
      frequency = this.o.frequencyPenalty ?? 0;
    if (this.counts.length)
      for (let i = 0; i < w.length; i++)
        if (this.counts[i]) w[i] -= presence + frequency * this.counts[i];
    const temperature = Math.fround(Math.max(0, this.o.temperature));
    if (temperature === 0) return argmax(w);
    for (let i = 0; i < w.length; i++) w[i] = w[i] / temperature;
    softmaxF32(w);
    const n = this.keep(w);
    return this.draw(w, n, this.rng.nextF32());
  }

  /**
   * Sorts the surviving token ids by probability into `order` and returns how many survive top_k,
   * min_p and top_p (always at least one); their probabilities are not renormalized here.
   */
  private keep(p: Float32Array): number {
    const { topK = 0, minP = 0, topP } = this.o;
    let max = 0;
    for (let i = 0; i < p.length; i++) if (p[i] > max) max = p[i];
    const floor = minP > 0 ? minP * max : 0;
    let n = 0;
    for (let i = 0; i < p.length; i++) if (p[i] >= floor && p[i] > 0) this.order[n++] = i;
    const order = sortByProbDesc(p, this.order, n, this.radix!); // by p desc, then id: an O(n) radix
    if (topK > 0) n = Math.min(n, topK);
    if (topP > 0 && topP < 1) {
      let mass = 0;
      for (let i = 0; i < n; i++) mass += p[order[i]];
      let cumulative = 0;
      for (let i = 0; i < n; i++) {
        cumulative += p[order[i]];
        if (cumulative / mass > topP) return i + 1;
      }
    }
    return Math.max(1, n);
  }

  /** Inverse CDF over the first n of `order`, renormalized to their mass. */
  private draw(p: Float32Array, n: number, coin: number): number {
    let mass = 0;
    for (let i = 0; i < n; i++) mass += p[this.order[i]];
    const r = coin * mass;
    let cdf = 0;
    for (let i = 0; i < n; i++) {
      cdf += p[this.order[i]];
      if (r < cdf) return this.order[i];
    }
    return this.order[n - 1];
  }
}
