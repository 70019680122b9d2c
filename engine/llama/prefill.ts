// Batched prefill: the prompt's tokens go through each layer together, so every weight matrix is
// read once per chunk of tokens (matmul) instead of once per token (matvec): prompt processing
// becomes compute-bound. Attention stays per token (causal: token t sees positions ≤ pos0 + t).
// K and V rows of consecutive positions are contiguous in the cache, so projections write there directly.
import { quantScratchBytes } from '../../kernels-wasm/quant';
import { FP8_BLOCK } from '../formats/fp8';
import type { KernelBackend } from '../../kernels-wasm/types';
import type { DeviceMatrix, DeviceWeights, SessionBuffers } from './forward';
import { biasAndRope, embed } from './forward';
import type { LlamaConfig } from './config';
import { attendKv, commitKv, kvTargets } from './kv-cache';

/** Tokens per prefill chunk: big enough for the matmul tiles to reuse each weight row, small enough for L2. */
export const PREFILL_CHUNK = 32;

export interface BatchBuffers {
  n: number; // tokens per chunk, at most
  x: number; // [n, dim] residual streams
  xb: number; // [n, dim] normed input, then [n, nHeads*headDim] attention output
  xb2: number; // [n, dim] projection output
  q: number; // [n, nHeads*headDim]
  hb: number; // [n, hiddenDim]
  hb2: number; // [n, hiddenDim]
  xq: number; // int8 activations of n tokens (q8/q4), or 4·cols f32 rows (fp8)
  kvStage: { k: number; v: number }; // [n, kvDim] f32 K/V rows before an int8 cache takes them (0: f32 cache)
}

const F32 = 4;

export function allocBatch(
  k: KernelBackend,
  c: LlamaConfig,
  n = PREFILL_CHUNK,
  int8Kv = false,
): BatchBuffers {
  const qDim = c.nHeads * c.headDim;
  const kvRows = n * c.nKvHeads * c.headDim;
  const maxCols = Math.max(c.dim, c.hiddenDim, qDim);
  return {
    n,
    x: k.alloc(n * c.dim),
    xb: k.alloc(n * Math.max(c.dim, qDim)), // normed inputs [n, dim], then attention outputs [n, qDim]
    xb2: k.alloc(n * c.dim),
    q: k.alloc(n * qDim),
    hb: k.alloc(n * c.hiddenDim),
    hb2: k.alloc(n * c.hiddenDim),
    xq: k.alloc(Math.max(Math.ceil(quantScratchBytes(maxCols, n) / 4), 4 * maxCols)),
    kvStage: int8Kv ? { k: k.alloc(kvRows), v: k.alloc(kvRows) } : { k: 0, v: 0 },
  };
}

/** out[n, rows] = x[n, cols] · Wᵀ, whatever W's storage format. */
export function linearBatch(
  k: KernelBackend,
  out: number,
  w: DeviceMatrix,
  x: number,
  n: number,
  scratch: number,
): void {
  if (w.format === 'f32') return k.matmul(out, w.data, x, w.rows, w.cols, n);
  if (w.format === 'q4x8')
    return k.q4x8!.matmulQ4x8(out, w.data, w.scales, x, scratch, w.rows, w.cols, n);
  const q = k.quant;
  if (!q) throw new Error(`no ${w.format} kernels in this backend`);
  if (w.format === 'q8') q.matmulQ8(out, w.data, w.scales, x, scratch, w.rows, w.cols, n);
  else if (w.format === 'q4') q.matmulQ4(out, w.data, w.scales, x, scratch, w.rows, w.cols, n);
  else q.matmulFp8(out, w.data, w.scales, x, scratch, w.rows, w.cols, n, FP8_BLOCK, FP8_BLOCK);
}

/**
 * Runs tokens[0..n) at positions pos0..pos0+n-1 (n ≤ b.n; the cache holds 0..pos0-1), filling their
 * K/V cache rows. No logits: the prompt's last token goes through forward() for those.
 */
export function prefill(
  k: KernelBackend,
  c: LlamaConfig,
  w: DeviceWeights,
  s: SessionBuffers,
  b: BatchBuffers,
  tokens: ArrayLike<number>,
  pos0: number,
): void {
  const n = tokens.length;
  if (n > b.n)
    throw new RangeError(`prefill chunk of ${n} tokens exceeds the batch buffers (${b.n})`);
  const { dim, hiddenDim, nHeads, nKvHeads, headDim, normEps: eps } = c;
  const qDim = nHeads * headDim;
  const kvDim = nKvHeads * headDim;
  const row = (base: number, t: number, width: number) => base + t * width * F32;

  for (let t = 0; t < n; t++) embed(k, row(b.x, t, dim), w.tokenEmbedding, tokens[t]);

  for (let l = 0; l < c.nLayers; l++) {
    const lw = w.layers[l];
    // [n, kvDim] these positions' keys and values: in an f32 cache itself, else staged for quantizing
    const { k: kRows, v: vRows } = kvTargets(s.kv, c, l, pos0, b.kvStage);

    // attention: q/k/v of all n tokens at once, then RoPE and attention token by token
    for (let t = 0; t < n; t++) k.rmsnorm(row(b.xb, t, dim), row(b.x, t, dim), lw.rmsAtt, dim, eps);
    linearBatch(k, b.q, lw.wq, b.xb, n, b.xq);
    linearBatch(k, kRows, lw.wk, b.xb, n, b.xq);
    linearBatch(k, vRows, lw.wv, b.xb, n, b.xq);
    for (let t = 0; t < n; t++) {
      const q = row(b.q, t, qDim),
        kr = row(kRows, t, kvDim),
        vr = row(vRows, t, kvDim);
      biasAndRope(k, c, w, lw, q, kr, vr, pos0 + t);
    }
    commitKv(k, s.kv, c, l, pos0, n, b.kvStage);
    for (let t = 0; t < n; t++)
      attendKv(k, s.kv, c, l, row(b.xb, t, qDim), row(b.q, t, qDim), s.att, pos0 + t + 1);
    linearBatch(k, b.xb2, lw.wo, b.xb, n, b.xq);
    k.add(b.x, b.xb2, n * dim);

    // feed-forward of all n tokens
    for (let t = 0; t < n; t++) k.rmsnorm(row(b.xb, t, dim), row(b.x, t, dim), lw.rmsFfn, dim, eps);
    linearBatch(k, b.hb, lw.w1, b.xb, n, b.xq);
    linearBatch(k, b.hb2, lw.w3, b.xb, n, b.xq);
    k.swiglu(b.hb, b.hb2, n * hiddenDim);
    linearBatch(k, b.xb2, lw.w2, b.hb, n, b.xq);
    k.add(b.x, b.xb2, n * dim);
  }
}
