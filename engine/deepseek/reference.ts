// The DeepSeek-V3 reference model: plain TypeScript over typed arrays (f32 weights, f64 activations),
// the readable twin that WASM and WebGPU backends are checked against. One session: caches and scratch
// are allocated once in the constructor; forward() never allocates.
//
// forward(tokens, startPos) runs a batch of consecutive tokens layer by layer (prefill, or the verify
// step of speculative decoding). Each token attends to cache rows 0..its own position only, so a batch
// gives bit-identical results to feeding the same tokens one at a time, and "rolling back" a rejected
// token is just starting the next forward at its position: its row is overwritten before anyone reads it.
import { blockForward, createBlockContext, mlaDims, type BlockContext } from './block';
import type { DeepSeekConfig } from './config';
import { linear } from './linear';
import { createMlaCache, type MlaCache } from './mla';
import { argmax, rmsNorm } from './ops';
import type { DeepSeekWeights } from './weights';

export interface ReferenceOptions {
  /** 'absorbed' (default) caches kv_norm(c_kv) and k_pe per token; 'naive' caches full per-head k and v. */
  attention?: 'absorbed' | 'naive';
  /** Positions the caches hold (default: min(max_position_embeddings, 4096)). */
  maxSeqLen?: number;
  /** Most tokens one forward() takes (default 64); longer prompts are fed in chunks. */
  maxBatch?: number;
}

export class DeepSeekReferenceModel {
  readonly config: DeepSeekConfig;
  readonly maxSeqLen: number;
  readonly maxBatch: number;
  /** Final hidden state (after model.norm, the head's input) of each token of the latest forward: [T, hidden]. */
  readonly hidden: Float64Array;
  /** Logits of each token of the latest forward: [T, vocab]. */
  readonly logits: Float64Array;
  private readonly caches: MlaCache[];
  private readonly ctx: BlockContext;

  constructor(
    readonly weights: DeepSeekWeights,
    opts: ReferenceOptions = {},
  ) {
    const c = (this.config = weights.config);
    this.maxSeqLen = opts.maxSeqLen ?? Math.min(c.maxPositionEmbeddings, 4096);
    this.maxBatch = opts.maxBatch ?? 64;
    const kind = opts.attention ?? 'absorbed';
    this.caches = weights.layers.map(() => createMlaCache(kind, mlaDims(c), this.maxSeqLen));
    this.ctx = createBlockContext(c, this.maxSeqLen);
    this.hidden = new Float64Array(this.maxBatch * c.hiddenSize);
    this.logits = new Float64Array(this.maxBatch * c.vocabSize);
  }

  /**
   * Runs tokens at positions startPos.. (cache rows 0..startPos-1 must hold the earlier tokens) and
   * returns their logits [T, vocab] (a view of this.logits, valid until the next call).
   */
  forward(tokens: ArrayLike<number>, startPos: number): Float64Array {
    const c = this.config,
      h = c.hiddenSize,
      V = c.vocabSize,
      T = tokens.length;
    if (T < 1 || T > this.maxBatch)
      throw new RangeError(`forward takes 1..${this.maxBatch} tokens, got ${T}`);
    if (startPos < 0 || startPos + T > this.maxSeqLen)
      throw new RangeError(
        `positions ${startPos}..${startPos + T - 1} exceed maxSeqLen ${this.maxSeqLen}`,
      );
    const x = this.hidden; // [T, hidden] residual stream

    for (let t = 0; t < T; t++) {
      const id = tokens[t];
      if (!Number.isInteger(id) || id < 0 || id >= V)
        throw new RangeError(`token id ${id} outside vocab 0..${V - 1}`);
      for (let i = 0; i < h; i++) x[t * h + i] = this.weights.embed[id * h + i];
    }
    for (let l = 0; l < this.weights.layers.length; l++) {
      for (let t = 0; t < T; t++)
        blockForward(
          x.subarray(t * h, (t + 1) * h),
          startPos + t,
          this.weights.layers[l],
          this.caches[l],
          this.ctx,
        );
    }
    for (let t = 0; t < T; t++) {
      const row = x.subarray(t * h, (t + 1) * h);
      rmsNorm(row, row, this.weights.norm, h, c.rmsNormEps); // [hidden], kept for MTP
      linear(this.logits.subarray(t * V, (t + 1) * V), this.weights.lmHead, row, this.ctx.mla.lin); // [vocab]
    }
    return this.logits.subarray(0, T * V);
  }

  /** Feeds a prompt (in chunks of maxBatch) from position 0; returns the logits of its last token. */
  prefill(prompt: ArrayLike<number>): Float64Array {
    const V = this.config.vocabSize;
    let last: Float64Array = new Float64Array(0);
    for (let at = 0; at < prompt.length; at += this.maxBatch) {
      const chunk = Array.from(
        { length: Math.min(this.maxBatch, prompt.length - at) },
        (_, i) => prompt[at + i],
      );
      const logits = this.forward(chunk, at);
      last = logits.subarray((chunk.length - 1) * V, chunk.length * V);
    }
    return last;
  }

  /** Plain greedy decoding: maxNewTokens argmax tokens after the prompt, one forward per token. */
  generateGreedy(prompt: ArrayLike<number>, maxNewTokens: number): number[] {
    if (prompt.length === 0) throw new RangeError('prompt must hold at least one token');
    const out: number[] = [];
    let next = argmax(this.prefill(prompt));
    for (let pos = prompt.length; out.length < maxNewTokens; pos++) {
      out.push(next);
      if (out.length === maxNewTokens) break;
      next = argmax(this.forward([next], pos));
    }
    return out;
  }
}
