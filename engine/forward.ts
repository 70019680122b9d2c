// The Llama forward pass for one token, read top to bottom like llama2.c's forward().
// Weights live in backend memory (copied once per model); a session owns the KV cache and the
// activations (allocated once per session). Every value below is a byte pointer into that memory.
import type { KernelBackend } from '../kernels-wasm/types';
import type { LlamaConfig } from './llama-config';
import type { LlamaWeights } from './llama2c-checkpoint';

/** LlamaWeights, as pointers into backend memory. */
export type DeviceWeights = { [K in keyof LlamaWeights]: number };

export interface SessionBuffers {
  x: number; // [dim] the residual stream
  xb: number; // [dim] normed input / attention output
  xb2: number; // [dim] projection output, added to x
  hb: number; // [hiddenDim] ffn gate, then silu(gate) * up
  hb2: number; // [hiddenDim] ffn up
  q: number; // [nHeads*headDim]
  att: number; // [nHeads, seqLen] attention scores
  logits: number; // [vocabSize]
  keyCache: number; // [nLayers, seqLen, nKvHeads*headDim]
  valueCache: number; // [nLayers, seqLen, nKvHeads*headDim]
}

const F32 = 4;

export function uploadWeights(backend: KernelBackend, weights: LlamaWeights): DeviceWeights {
  const copy = (data: Float32Array) => {
    const ptr = backend.alloc(data.length);
    backend.write(ptr, data);
    return ptr;
  };
  const tokenEmbedding = copy(weights.tokenEmbedding);
  return {
    tokenEmbedding,
    rmsAtt: copy(weights.rmsAtt),
    wq: copy(weights.wq),
    wk: copy(weights.wk),
    wv: copy(weights.wv),
    wo: copy(weights.wo),
    rmsFfn: copy(weights.rmsFfn),
    w1: copy(weights.w1),
    w2: copy(weights.w2),
    w3: copy(weights.w3),
    rmsFinal: copy(weights.rmsFinal),
    wcls: weights.wcls === weights.tokenEmbedding ? tokenEmbedding : copy(weights.wcls),
  };
}

export function allocSession(backend: KernelBackend, c: LlamaConfig): SessionBuffers {
  const kvDim = c.nKvHeads * c.headDim;
  return {
    x: backend.alloc(c.dim),
    xb: backend.alloc(c.dim),
    xb2: backend.alloc(c.dim),
    hb: backend.alloc(c.hiddenDim),
    hb2: backend.alloc(c.hiddenDim),
    q: backend.alloc(c.nHeads * c.headDim),
    att: backend.alloc(c.nHeads * c.seqLen),
    logits: backend.alloc(c.vocabSize),
    keyCache: backend.alloc(c.nLayers * c.seqLen * kvDim),
    valueCache: backend.alloc(c.nLayers * c.seqLen * kvDim),
  };
}

/**
 * Runs `token` at position `pos` (the cache must hold positions 0..pos-1) and returns the pointer
 * to logits[vocabSize]. With computeLogits false (inside a prompt) the classifier is skipped.
 */
export function forward(
  k: KernelBackend, c: LlamaConfig, w: DeviceWeights, s: SessionBuffers,
  token: number, pos: number, computeLogits = true,
): number {
  const { dim, hiddenDim, nHeads, nKvHeads, headDim, seqLen, normEps: eps } = c;
  const qDim = nHeads * headDim;
  const kvDim = nKvHeads * headDim;

  // the token's embedding into the residual stream
  k.f32(s.x, dim).set(k.f32(w.tokenEmbedding + token * dim * F32, dim));

  for (let l = 0; l < c.nLayers; l++) {
    const layerCache = l * seqLen * kvDim * F32;
    const kCache = s.keyCache + layerCache; // [seqLen, kvDim] of this layer
    const vCache = s.valueCache + layerCache; // [seqLen, kvDim]
    const kRow = kCache + pos * kvDim * F32; // [kvDim] this position's key
    const vRow = vCache + pos * kvDim * F32; // [kvDim] this position's value

    // attention: rmsnorm, q/k/v projections (k and v straight into the cache), RoPE, attend
    k.rmsnorm(s.xb, s.x, w.rmsAtt + l * dim * F32, dim, eps);
    k.matvec(s.q, w.wq + l * qDim * dim * F32, s.xb, qDim, dim);
    k.matvec(kRow, w.wk + l * kvDim * dim * F32, s.xb, kvDim, dim);
    k.matvec(vRow, w.wv + l * kvDim * dim * F32, s.xb, kvDim, dim);
    k.rope(s.q, kRow, nHeads, nKvHeads, headDim, pos, c.ropeTheta);
    k.attention(s.xb, s.q, kCache, vCache, s.att, nHeads, nKvHeads, headDim, pos + 1);
    k.matvec(s.xb2, w.wo + l * dim * qDim * F32, s.xb, dim, qDim);
    k.add(s.x, s.xb2, dim);

    // feed-forward: rmsnorm, w2(silu(w1·x) * w3·x)
    k.rmsnorm(s.xb, s.x, w.rmsFfn + l * dim * F32, dim, eps);
    k.matvec(s.hb, w.w1 + l * hiddenDim * dim * F32, s.xb, hiddenDim, dim);
    k.matvec(s.hb2, w.w3 + l * hiddenDim * dim * F32, s.xb, hiddenDim, dim);
    k.swiglu(s.hb, s.hb2, hiddenDim);
    k.matvec(s.xb2, w.w2 + l * dim * hiddenDim * F32, s.hb, dim, hiddenDim);
    k.add(s.x, s.xb2, dim);
  }

  if (!computeLogits) return s.logits;
  k.rmsnorm(s.x, s.x, w.rmsFinal, dim, eps);
  k.matvec(s.logits, w.wcls, s.x, c.vocabSize, dim);
  return s.logits;
}
