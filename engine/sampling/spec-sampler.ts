// Room: engine/sampling (moved from origin/scheduler: the origin scheduler and the edge DeepSeek engine share it).
// Speculative sampling (Leviathan et al. 2023, Chen et al. 2023) for one sequence: the MTP draft x is
// drawn from q (the draft logits under the request's options), the main model's step gives p (its logits
// under the same options), x is kept with probability min(1, p(x)/q(x)), and on rejection the token is
// drawn from norm(max(0, p − q)). The emitted token is then distributed exactly as p, whatever q is.
//
// p and q are the distribution TokenSampler draws from (engine/sampling/token-sampler.ts): logit_bias and
// presence/frequency penalties (counts of the tokens emitted so far, the same for p and q), temperature,
// softmax, then top_k, min_p and top_p truncation, renormalized. Every option is exact under speculation;
// temperature 0 with extras makes p and q one-hot (accept iff the draft is p's argmax). Only the random
// stream differs from plain sampling, so a seed gives other (equally distributed) tokens than with --spec off.
import {
  XorShiftRng,
  argmax,
  radixScratch,
  softmaxF32,
  sortByProbDesc,
  wasmSpecDistribution,
  type RadixScratch,
} from './sampler';
import type { SamplingOptions } from './options';

export class SpecSampler {
  private readonly rng: XorShiftRng;
  private readonly counts: Uint32Array;
  private readonly work: Float32Array;
  private readonly order: Int32Array;
  private readonly radix: RadixScratch;
  private readonly p: Float64Array;
  /** The distribution the pending draft was drawn from. */
  private readonly q: Float64Array;

  constructor(
    vocabSize: number,
    private readonly o: SamplingOptions,
    seed: number,
  ) {
    this.rng = new XorShiftRng(seed);
    this.counts = new Uint32Array(vocabSize);
    this.work = new Float32Array(vocabSize);
    this.order = new Int32Array(vocabSize);
    this.radix = radixScratch(vocabSize);
    this.p = new Float64Array(vocabSize);
    this.q = new Float64Array(vocabSize);
  }

  /** Draws a draft from the MTP's logits (kept as q for verify). */
  draft(logits: Float32Array): number {
    this.distribution(logits, this.q);
    return this.draw(this.q);
  }

  /** A token from the main model's logits alone (no pending draft). */
  sample(logits: Float32Array): number {
    this.distribution(logits, this.p);
    return this.emit(this.draw(this.p));
  }

  /** The token at the draft's position: the draft itself (accepted) or a draw from the residual. */
  verify(logits: Float32Array, draft: number): { id: number; accepted: boolean } {
    const p = this.p,
      q = this.q;
    this.distribution(logits, p);
    if (this.rng.nextF32() * q[draft] < p[draft]) return { id: this.emit(draft), accepted: true };
    let mass = 0;
    for (let i = 0; i < p.length; i++) mass += p[i] = Math.max(0, p[i] - q[i]);
    // p ≤ q everywhere only up to rounding (p = q): then p itself is the right draw.
    if (!(mass > 1e-12)) this.distribution(logits, p);
    return { id: this.emit(this.draw(p)), accepted: false };
  }

  private emit(id: number): number {
    this.counts[id]++;
    return id;
  }

  /** Inverse CDF over out (sums to 1 up to rounding, or to the residual's mass). */
  private draw(out: Float64Array): number {
    let mass = 0;
    for (let i = 0; i < out.length; i++) mass += out[i];
    const r = this.rng.nextF32() * mass;
    let cdf = 0,
      last = 0;
    for (let i = 0; i < out.length; i++) {
      if (out[i] <= 0) continue;
      cdf += out[i];
      last = i;
      if (r < cdf) return i;
    }
    return last;
  }

  /** out = the options' distribution over the vocabulary for these logits (sums to 1). */
  distribution(logits: Float32Array, out: Float64Array): void {
    const w = this.work,
      o = this.o;
    w.set(logits);
    for (const [id, bias] of Object.entries(o.logitBias ?? {}))
      if (+id >= 0 && +id < w.length) w[+id] += bias;
    const presence = o.presencePenalty ?? 0,
      frequency = o.frequencyPenalty ?? 0;
    if (presence || frequency)
      for (let i = 0; i < w.length; i++)
        if (this.counts[i]) w[i] -= presence + frequency * this.counts[i];
    out.fill(0);
    const temperature = Math.fround(Math.max(0, o.temperature));
    if (temperature === 0) {
      out[argmax(w)] = 1;
      return;
    }
    const { topK = 0, minP = 0, topP } = o;
    // No truncation: the steps below in WASM, bit for bit (kernels-wasm/assembly/softmax-runc.ts
    // spec_distribution: keep() then lists every id with p > 0 in id order, so the mass is summed in that
    // order). In JS they were 21 % of a sampling origin's CPU with MTP on (bench/RESULTS.md 2026-12-08).
    const untruncated = topK <= 0 && minP <= 0 && !(topP > 0 && topP < 1);
    const wasmMass = untruncated ? wasmSpecDistribution(w, temperature, out) : undefined;
    if (wasmMass !== undefined && wasmMass > 0) return;
    // (a mass not > 0 left w softmaxed: the degenerate case below)
    if (wasmMass === undefined) {
      for (let i = 0; i < w.length; i++) w[i] = w[i] / temperature;
      softmaxF32(w);
    }
    const n = this.keep(w);
    let mass = 0;
    for (let i = 0; i < n; i++) mass += w[this.order[i]];
    for (let i = 0; i < n; i++) out[this.order[i]] = w[this.order[i]] / mass;
  }

  /** TokenSampler's truncation: ids by probability into `order`; how many survive top_k, min_p, top_p. */
  private keep(p: Float32Array): number {
    const { topK = 0, minP = 0, topP } = this.o;
    let max = 0;
    for (let i = 0; i < p.length; i++) if (p[i] > max) max = p[i];
    const floor = minP > 0 ? minP * max : 0;
    let n = 0;
    for (let i = 0; i < p.length; i++) if (p[i] >= floor && p[i] > 0) this.order[n++] = i;
    // no truncation: every id with p > 0 stays, and their order does not matter
    if (topK <= 0 && !(topP > 0 && topP < 1)) return Math.max(1, n);
    // by p desc, then id (the comparator sort's order) in O(n): a comparator sort over a 20K vocabulary
    // took ~4 ms, twice per speculative step (draft and verify), 9 ms of a 1 ms step
    const order = sortByProbDesc(p, this.order, n, this.radix);
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
}
