// The Llama forward pass for one token, read top to bottom like llama2.c's forward().
// Weights live in backend memory (copied once per model); a session owns the KV cache and the
// activations (allocated once per session). Every value below is a byte pointer into that memory.
import { QK, quantScratchBytes } from '../../kernels-wasm/quant';
import { f16ToF32 } from '../formats/f16';
import { E4M3_VALUES, FP8_BLOCK } from '../formats/fp8';
import type { KernelBackend } from '../../kernels-wasm/types';
import type { LlamaConfig } from './config';
import type { LlamaWeights } from './llama2c-checkpoint';
import {
  allocKvCache,
  attendKv,
  commitKv,
  kvTargets,
  type KvCache,
  type KvFormat,
} from './kv-cache';
import type { BatchBuffers } from './prefill';
import { ropeInverseFrequencies, ropeWithFrequencies } from './rope';
import { dequantizeQ4x8Row } from './packed';

/**
 * How a matrix is stored in backend memory (formats/quant.ts describes the quantized ones; 'q4x8' is Q4_0
 * repacked at load for the kernels, engine/llama/packed.ts).
 */
export type WeightFormat = 'f32' | 'q8' | 'q4' | 'q4x8' | 'fp8';

/** A row-major [rows, cols] matrix in backend memory; `scales` is 0 for f32. */
export interface DeviceMatrix {
  format: WeightFormat;
  rows: number;
  cols: number;
  data: number;
  scales: number;
}

export interface LayerWeights {
  rmsAtt: number; // [dim]
  wq: DeviceMatrix; // [nHeads*headDim, dim], rows in the interleaved RoPE order
  wk: DeviceMatrix; // [nKvHeads*headDim, dim], idem
  wv: DeviceMatrix; // [nKvHeads*headDim, dim]
  bq: number; // [nHeads*headDim] or 0 (no bias)
  bk: number; // [nKvHeads*headDim] or 0
  bv: number; // [nKvHeads*headDim] or 0
  wo: DeviceMatrix; // [dim, nHeads*headDim]
  rmsFfn: number; // [dim]
  w1: DeviceMatrix; // [hiddenDim, dim] gate
  w2: DeviceMatrix; // [dim, hiddenDim] down
  w3: DeviceMatrix; // [hiddenDim, dim] up
}

export interface DeviceWeights {
  tokenEmbedding: DeviceMatrix; // [vocabSize, dim]
  layers: LayerWeights[];
  rmsFinal: number; // [dim]
  wcls: DeviceMatrix; // [vocabSize, dim]; the embedding itself when shared
  /** Scaled RoPE frequencies [headDim/2], or null for the kernel's plain theta^(-2i/headDim). */
  ropeFrequencies: Float32Array | null;
}

export interface SessionBuffers {
  x: number; // [dim] the residual stream
  xb: number; // [dim] normed input / attention output
  xb2: number; // [dim] projection output, added to x
  hb: number; // [hiddenDim] ffn gate, then silu(gate) * up
  hb2: number; // [hiddenDim] ffn up
  q: number; // [nHeads*headDim]
  att: number; // [nHeads, seqLen] attention scores
  logits: number; // [vocabSize]
  kv: KvCache; // [nLayers, seqLen, nKvHeads*headDim] keys and values, f32 or int8 (kv-cache.ts)
  kvStage: { k: number; v: number; rows: number }; // one position's f32 K/V rows before an int8 cache takes them
  xq: number; // int8 activations + scales for the q8/q4 kernels, quantScratchBytes(max cols)
  /** Batched-prefill buffers (engine/llama/prefill.ts), allocated on the session's first multi-token prompt. */
  batch?: BatchBuffers;
}

const F32 = 4;

export const f32Matrix = (data: number, rows: number, cols: number): DeviceMatrix => ({
  format: 'f32',
  rows,
  cols,
  data,
  scales: 0,
});

/** Copies llama2.c weights (stacked [nLayers, …] arrays) into backend memory. */
export function uploadWeights(
  backend: KernelBackend,
  weights: LlamaWeights,
  c?: LlamaConfig,
): DeviceWeights {
  const copy = (data: Float32Array) => {
    const ptr = backend.alloc(data.length);
    backend.write(ptr, data);
    return ptr;
  };
  const ptrs = Object.fromEntries(
    Object.entries(weights).map(([k, v]) => [k, k === 'wcls' ? 0 : copy(v)]),
  ) as Record<keyof LlamaWeights, number>;
  ptrs.wcls = weights.wcls === weights.tokenEmbedding ? ptrs.tokenEmbedding : copy(weights.wcls);
  const dim = weights.rmsFinal.length;
  const nLayers = weights.rmsAtt.length / dim;
  const vocab = weights.tokenEmbedding.length / dim;
  const hidden = weights.w1.length / nLayers / dim;
  const qDim = weights.wq.length / nLayers / dim;
  const kvDim = weights.wk.length / nLayers / dim;
  const layer = (l: number, slot: keyof LlamaWeights, rows: number, cols: number) =>
    f32Matrix(ptrs[slot] + l * rows * cols * F32, rows, cols);
  return {
    tokenEmbedding: f32Matrix(ptrs.tokenEmbedding, vocab, dim),
    layers: Array.from({ length: nLayers }, (_, l) => ({
      rmsAtt: ptrs.rmsAtt + l * dim * F32,
      wq: layer(l, 'wq', qDim, dim),
      wk: layer(l, 'wk', kvDim, dim),
      wv: layer(l, 'wv', kvDim, dim),
      bq: 0,
      bk: 0,
      bv: 0,
      wo: layer(l, 'wo', dim, qDim),
      rmsFfn: ptrs.rmsFfn + l * dim * F32,
      w1: layer(l, 'w1', hidden, dim),
      w2: layer(l, 'w2', dim, hidden),
      w3: layer(l, 'w3', hidden, dim),
    })),
    rmsFinal: ptrs.rmsFinal,
    wcls: f32Matrix(ptrs.wcls, vocab, dim),
    ropeFrequencies: c?.ropeScaling ? ropeInverseFrequencies(c) : null,
  };
}

export function allocSession(
  backend: KernelBackend,
  c: LlamaConfig,
  kvFormat: KvFormat = 'f32',
): SessionBuffers {
  const kvDim = c.nKvHeads * c.headDim;
  return {
    x: backend.alloc(c.dim),
    xb: backend.alloc(Math.max(c.dim, c.nHeads * c.headDim)), // attention output is nHeads*headDim
    xb2: backend.alloc(c.dim),
    hb: backend.alloc(c.hiddenDim),
    hb2: backend.alloc(c.hiddenDim),
    q: backend.alloc(c.nHeads * c.headDim),
    att: backend.alloc(c.nHeads * c.seqLen),
    logits: backend.alloc(c.vocabSize),
    kv: allocKvCache(backend, c, kvFormat),
    kvStage:
      kvFormat === 'f32'
        ? { k: 0, v: 0, rows: 0 }
        : { k: backend.alloc(kvDim), v: backend.alloc(kvDim), rows: 1 },
    xq: backend.alloc(
      Math.ceil(quantScratchBytes(Math.max(c.dim, c.hiddenDim, c.nHeads * c.headDim)) / 4),
    ),
  };
}

/** out[rows] = W · x[cols], whatever W's storage format; xq is the session's int8 scratch. */
export function linear(
  k: KernelBackend,
  out: number,
  w: DeviceMatrix,
  x: number,
  xq: number,
): void {
  if (w.format === 'f32') return k.matvec(out, w.data, x, w.rows, w.cols);
  if (w.format === 'q4x8') return k.q4x8!.matvecQ4x8(out, w.data, w.scales, x, xq, w.rows, w.cols);
  const q = k.quant;
  if (!q) throw new Error(`no ${w.format} kernels in this backend`);
  if (w.format === 'q8') q.matvecQ8(out, w.data, w.scales, x, xq, w.rows, w.cols);
  else if (w.format === 'q4') q.matvecQ4(out, w.data, w.scales, x, xq, w.rows, w.cols);
  else q.matvecFp8(out, w.data, w.scales, x, w.rows, w.cols, FP8_BLOCK, FP8_BLOCK);
}

/** x[dim] = row `token` of the embedding, dequantized when it is stored quantized. */
export function embed(k: KernelBackend, x: number, w: DeviceMatrix, token: number): void {
  const cols = w.cols;
  const out = k.f32(x, cols);
  if (w.format === 'f32') return out.set(k.f32(w.data + token * cols * F32, cols));
  const bytes = k.bytes!;
  if (w.format === 'fp8') {
    const codes = bytes(w.data + token * cols, cols);
    const blocks = Math.ceil(cols / FP8_BLOCK);
    const scales = k.f32(w.scales + Math.floor(token / FP8_BLOCK) * blocks * F32, blocks);
    for (let c = 0; c < cols; c++)
      out[c] = E4M3_VALUES[codes[c]] * scales[Math.floor(c / FP8_BLOCK)];
    return;
  }
  const groups = cols / QK;
  if (w.format === 'q4x8') {
    const g = token >> 3,
      scales = bytes(w.scales + g * groups * 16, groups * 16);
    const f16 = new Uint16Array(scales.buffer, scales.byteOffset, groups * 8);
    return dequantizeQ4x8Row(
      bytes(w.data + g * groups * 128, groups * 128),
      f16,
      token & 7,
      out,
      f16ToF32,
    );
  }
  const d = bytes(w.scales + token * groups * 2, groups * 2);
  // each block's scale decoded once: per element it took 36 µs of a ~5 ms stories110M q8 decode step (now ~3)
  const scaleOf = (g: number) => f16ToF32(d[2 * g] | (d[2 * g + 1] << 8));
  if (w.format === 'q8') {
    const codes = bytes(w.data + token * cols, cols);
    for (let g = 0; g < groups; g++) {
      const scale = scaleOf(g);
      for (let c = g * QK, end = Math.min(cols, c + QK); c < end; c++)
        out[c] = ((codes[c] << 24) >> 24) * scale;
    }
    return;
  }
  const codes = bytes(w.data + (token * cols) / 2, cols / 2);
  for (let g = 0; g < groups; g++) {
    const scale = scaleOf(g);
    for (let j = 0; j < QK / 2; j++) {
      const b = codes[g * (QK / 2) + j];
      out[g * QK + j] = ((b & 15) - 8) * scale;
      out[g * QK + j + QK / 2] = ((b >> 4) - 8) * scale;
    }
  }
}

/**
 * Runs `token` at position `pos` (the cache must hold positions 0..pos-1) and returns the pointer
 * to logits[vocabSize]. With computeLogits false (inside a prompt) the classifier is skipped.
 */
export function forward(
  k: KernelBackend,
  c: LlamaConfig,
  w: DeviceWeights,
  s: SessionBuffers,
  token: number,
  pos: number,
  computeLogits = true,
): number {
  const { dim, hiddenDim, normEps: eps } = c;

  // the token's embedding into the residual stream
  embed(k, s.x, w.tokenEmbedding, token);

  for (let l = 0; l < c.nLayers; l++) {
    const lw = w.layers[l];
    // [kvDim] this position's key and value: in an f32 cache itself, else staged for quantizing
    const { k: kRow, v: vRow } = kvTargets(s.kv, c, l, pos, s.kvStage);

    // attention: rmsnorm, q/k/v projections (k and v straight into an f32 cache), RoPE, attend
    k.rmsnorm(s.xb, s.x, lw.rmsAtt, dim, eps);
    linear(k, s.q, lw.wq, s.xb, s.xq);
    linear(k, kRow, lw.wk, s.xb, s.xq);
    linear(k, vRow, lw.wv, s.xb, s.xq);
    biasAndRope(k, c, w, lw, s.q, kRow, vRow, pos);
    commitKv(k, s.kv, c, l, pos, 1, s.kvStage);
    attendKv(k, s.kv, c, l, s.xb, s.q, s.att, pos + 1);
    linear(k, s.xb2, lw.wo, s.xb, s.xq);
    k.add(s.x, s.xb2, dim);

    // feed-forward: rmsnorm, w2(silu(w1·x) * w3·x)
    k.rmsnorm(s.xb, s.x, lw.rmsFfn, dim, eps);
    linear(k, s.hb, lw.w1, s.xb, s.xq);
    linear(k, s.hb2, lw.w3, s.xb, s.xq);
    k.swiglu(s.hb, s.hb2, hiddenDim);
    linear(k, s.xb2, lw.w2, s.hb, s.xq);
    k.add(s.x, s.xb2, dim);
  }

  if (!computeLogits) return s.logits;
  k.rmsnorm(s.x, s.x, w.rmsFinal, dim, eps);
  linear(k, s.logits, w.wcls, s.x, s.xq);
  return s.logits;
}

/** A token's q/k/v rows after their projections: the biases (Qwen2) added, then RoPE at `pos` on q and k. */
export function biasAndRope(
  k: KernelBackend,
  c: LlamaConfig,
  w: DeviceWeights,
  lw: LayerWeights,
  q: number,
  kr: number,
  vr: number,
  pos: number,
): void {
  const { nHeads, nKvHeads, headDim } = c;
  const qDim = nHeads * headDim,
    kvDim = nKvHeads * headDim;
  if (lw.bq) k.add(q, lw.bq, qDim);
  if (lw.bk) k.add(kr, lw.bk, kvDim);
  if (lw.bv) k.add(vr, lw.bv, kvDim);
  if (w.ropeFrequencies)
    ropeWithFrequencies(
      k.f32(q, qDim),
      k.f32(kr, kvDim),
      nHeads,
      nKvHeads,
      headDim,
      pos,
      w.ropeFrequencies,
    );
  else k.rope(q, kr, nHeads, nKvHeads, headDim, pos, c.ropeTheta);
}
