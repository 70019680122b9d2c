// One decode step for several sequences at once (the decode batcher's forward pass, engine/decode-batcher.ts):
// each sequence's next token at its own position against its own KV cache, with every weight matrix read once
// for all of them (the `matvecs` kernels: each token's row bit-identical to the single-token matvec, so a
// sequence decoded in a batch computes exactly the logits it would alone). Reads like forward(): embed, then
// per layer the batched projections, and per sequence its biases, RoPE at its position, KV write and attention.
import { quantScratchBytes } from '../../kernels-wasm/quant';
import type { KernelBackend } from '../../kernels-wasm/types';
import type { LlamaConfig } from './config';
import {
  biasAndRope,
  embed,
  forward,
  linear,
  type DeviceMatrix,
  type DeviceWeights,
  type SessionBuffers,
} from './forward';
import { attendKv, commitKv, kvTargets } from './kv-cache';

/** A sequence's part in a step: its session, the token to run and its position (the cache holds 0..pos-1). */
export interface StepSeq {
  session: SessionBuffers;
  token: number;
  pos: number;
}

export interface StepBuffers {
  n: number; // sequences per step, at most
  x: number; // [n, dim] residual streams
  xb: number; // [n, max(dim, qDim)] normed inputs, then attention outputs
  xb2: number; // [n, dim] projection outputs
  q: number; // [n, qDim]
  k: number; // [n, kvDim] this step's keys, before they go to each sequence's cache
  v: number; // [n, kvDim]
  hb: number; // [n, hiddenDim]
  hb2: number; // [n, hiddenDim]
  logits: number; // [n, vocabSize]
  xq: number; // int8 activations of n tokens (q8/q4)
}

const F32 = 4;

export function allocStep(k: KernelBackend, c: LlamaConfig, n: number): StepBuffers {
  const qDim = c.nHeads * c.headDim,
    kvDim = c.nKvHeads * c.headDim;
  const maxCols = Math.max(c.dim, c.hiddenDim, qDim);
  return {
    n,
    x: k.alloc(n * c.dim),
    xb: k.alloc(n * Math.max(c.dim, qDim)),
    xb2: k.alloc(n * c.dim),
    q: k.alloc(n * qDim),
    k: k.alloc(n * kvDim),
    v: k.alloc(n * kvDim),
    hb: k.alloc(n * c.hiddenDim),
    hb2: k.alloc(n * c.hiddenDim),
    logits: k.alloc(n * c.vocabSize),
    xq: k.alloc(Math.ceil(quantScratchBytes(maxCols, n) / 4)),
  };
}

/**
 * out[n, rows] = x[n, cols] · Wᵀ, each token's row exactly linear(W, x[t]): the batched kernel where the
 * backend has it for W's format, else one matvec per token (f32 on the TS backend, FP8).
 */
export function linearRows(
  k: KernelBackend,
  out: number,
  w: DeviceMatrix,
  x: number,
  n: number,
  xq: number,
): void {
  const mv = k.matvecs;
  if (mv && w.format === 'f32') return mv.matvecs(out, w.data, x, w.rows, w.cols, n);
  if (mv && w.format === 'q8') return mv.matvecsQ8(out, w.data, w.scales, x, xq, w.rows, w.cols, n);
  if (mv && w.format === 'q4') return mv.matvecsQ4(out, w.data, w.scales, x, xq, w.rows, w.cols, n);
  // matmulQ4x8's token t is bit-identical to matvecQ4x8 of x[t]
  if (w.format === 'q4x8')
    return k.q4x8!.matmulQ4x8(out, w.data, w.scales, x, xq, w.rows, w.cols, n);
  for (let t = 0; t < n; t++) linear(k, out + t * w.rows * F32, w, x + t * w.cols * F32, xq);
}

/**
 * Runs seqs[i].token at seqs[i].pos for every i, and leaves each sequence's logits in its session's
 * `logits`. One sequence takes forward() itself (the same numbers, without the copies).
 */
export function decodeStep(
  k: KernelBackend,
  c: LlamaConfig,
  w: DeviceWeights,
  b: StepBuffers,
  seqs: readonly StepSeq[],
): void {
  const n = seqs.length;
  if (n === 1) return void forward(k, c, w, seqs[0].session, seqs[0].token, seqs[0].pos);
  if (n > b.n) throw new RangeError(`a step of ${n} sequences exceeds the step buffers (${b.n})`);
  const { dim, hiddenDim, nHeads, nKvHeads, headDim, normEps: eps } = c;
  const qDim = nHeads * headDim,
    kvDim = nKvHeads * headDim;
  const row = (base: number, t: number, width: number) => base + t * width * F32;

  for (let t = 0; t < n; t++) embed(k, row(b.x, t, dim), w.tokenEmbedding, seqs[t].token);

  for (let l = 0; l < c.nLayers; l++) {
    const lw = w.layers[l];
    // attention: q/k/v of every sequence at once, then each one's RoPE, cache write and attention
    for (let t = 0; t < n; t++) k.rmsnorm(row(b.xb, t, dim), row(b.x, t, dim), lw.rmsAtt, dim, eps);
    linearRows(k, b.q, lw.wq, b.xb, n, b.xq);
    linearRows(k, b.k, lw.wk, b.xb, n, b.xq);
    linearRows(k, b.v, lw.wv, b.xb, n, b.xq);
    for (let t = 0; t < n; t++) {
      const { session: s, pos } = seqs[t];
      const q = row(b.q, t, qDim),
        kr = row(b.k, t, kvDim),
        vr = row(b.v, t, kvDim);
      biasAndRope(k, c, w, lw, q, kr, vr, pos);
      // [kvDim] into the sequence's f32 cache, or its staging rows for an int8 cache
      const target = kvTargets(s.kv, c, l, pos, s.kvStage);
      k.f32(target.k, kvDim).set(k.f32(kr, kvDim));
      k.f32(target.v, kvDim).set(k.f32(vr, kvDim));
      commitKv(k, s.kv, c, l, pos, 1, s.kvStage);
      attendKv(k, s.kv, c, l, row(b.xb, t, qDim), q, s.att, pos + 1);
    }
    linearRows(k, b.xb2, lw.wo, b.xb, n, b.xq);
    k.add(b.x, b.xb2, n * dim);

    // feed-forward of every sequence
    for (let t = 0; t < n; t++) k.rmsnorm(row(b.xb, t, dim), row(b.x, t, dim), lw.rmsFfn, dim, eps);
    linearRows(k, b.hb, lw.w1, b.xb, n, b.xq);
    linearRows(k, b.hb2, lw.w3, b.xb, n, b.xq);
    for (let t = 0; t < n; t++)
      k.swiglu(row(b.hb, t, hiddenDim), row(b.hb2, t, hiddenDim), hiddenDim); // per row: the same tails as forward()
    linearRows(k, b.xb2, lw.w2, b.hb, n, b.xq);
    k.add(b.x, b.xb2, n * dim);
  }

  for (let t = 0; t < n; t++) k.rmsnorm(row(b.x, t, dim), row(b.x, t, dim), w.rmsFinal, dim, eps);
  linearRows(k, b.logits, w.wcls, b.x, n, b.xq);
  for (let t = 0; t < n; t++)
    k.f32(seqs[t].session.logits, c.vocabSize).set(
      k.f32(row(b.logits, t, c.vocabSize), c.vocabSize),
    );
}
