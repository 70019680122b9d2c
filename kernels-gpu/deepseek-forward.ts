// The DeepSeek-V3 forward step on the GPU, recorded once: every kernel call site (pipeline, bind group,
// params uniform) is created here when the backend starts; a step only rewrites params and dispatches.
// Reads like the reference's blockForward, top to bottom; each buffer's shape is in its comment
// (B = most tokens per step, T = tokens of this step, K = experts per token).
import { mlaDims } from '../engine/deepseek/block';
import { qkHeadDim, type DeepSeekConfig } from '../engine/deepseek/config';
import { gateOptions } from '../engine/deepseek/moe';
import { mlaSoftmaxScale } from '../engine/deepseek/rope';
import type { GpuDeepSeekWeights, GpuMlp } from './deepseek-weights';
import type { Gpu } from './device';
import { FP8_BLOCK } from '../engine/formats/fp8';
import { fp8GroupedGemm, fp8Linear, fp8Quantize, type Fp8WeightBuffers } from './fp8';
import { storageBuffer, type GpuOp } from './kernel';
import { kvCacheWrite, mlaAbsorbOut, mlaAbsorbQ, mlaDecode, type PagedCache } from './mla';
import { moePermute, moeRoute, moeScatterAdd } from './moe';
import { embedding, matmulF32, rmsNorm, rope, swiglu, uploadRopeTable } from './ops';

export interface ForwardShape {
  maxStepTokens: number; // B
  maxSeqLen: number;
  /** 'fp8': activations quantized per 1×128 (DeepSeek's W8A8); 'f32': weight-only FP8 (the reference's 'dequantized'). */
  activations: 'fp8' | 'f32';
}

/** The step's activations, allocated once. */
export function createActivations(gpu: Gpu, c: DeepSeekConfig, s: ForwardShape) {
  const B = s.maxStepTokens,
    h = c.hiddenSize,
    H = c.numAttentionHeads,
    K = c.numExpertsPerTok,
    E = c.nRoutedExperts;
  const d = mlaDims(c),
    qLora = c.qLoraRank ?? 0,
    blocks = (n: number) => Math.ceil(n / FP8_BLOCK);
  const shared = c.moeIntermediateSize * c.nSharedExperts;
  const ffn = Math.max(B * c.intermediateSize, B * K * c.moeIntermediateSize, B * shared); // widest FFN activation
  const hq = Math.max(B * qLora, B * H * d.v, ffn);
  const hs = Math.max(
    B * blocks(qLora),
    B * blocks(H * d.v),
    B * blocks(c.intermediateSize),
    B * K * blocks(c.moeIntermediateSize),
    B * blocks(shared),
  );
  const f = (floats: number, label: string) => storageBuffer(gpu, 4 * floats, label);
  return {
    rowInfo: f(B * 4, 'rowInfo'), // [B] (token, pos, slot, 0) u32
    x: f(B * h, 'x'), // [B, hidden] residual stream
    xn: f(B * h, 'xn'), // [B, hidden] normed
    xq: f(B * h, 'xq'), // [B, hidden] E4M3 values of xn
    xs: f(B * blocks(h), 'xs'), // [B, hidden/128]
    hq: f(hq, 'hq'), // quantized inner activations: [B, qLora] | [B, H·v] | [B·K, moeInter] | ...
    hs: f(hs, 'hs'),
    qa: f(B * qLora, 'qa'), // [B, qLoraRank]
    qan: f(B * qLora, 'qan'), // [B, qLoraRank] normed
    q: f(B * H * qkHeadDim(c), 'q'), // [B, H·(nope+rope)]
    kva: f(B * (d.latent + d.rope), 'kva'), // [B, latent + rope]
    latent: f(B * d.latent, 'latent'), // [B, latent] kv_norm(c_kv)
    qLat: f(B * H * d.latent, 'qLat'), // [B, H, latent]
    oLat: f(B * H * d.latent, 'oLat'), // [B, H, latent]
    att: f(B * H * s.maxSeqLen, 'att'), // [B, H, maxSeqLen] scores scratch
    attn: f(B * H * d.v, 'attn'), // [B, H·v]
    g: f(ffn, 'g'), // [B, inter] | [B·K, moeInter] gate, then SwiGLU output
    u: f(ffn, 'u'), // same, up
    y: f(B * K * h, 'y'), // [B·K, hidden] routed experts' outputs, expert-sorted
    routerLogits: f(B * E, 'routerLogits'), // [B, E]
    idx: f(B * K, 'idx'), // [B, K] u32 chosen experts
    weight: f(B * K, 'weight'), // [B, K]
    rowToken: f(B * K, 'rowToken'), // [B·K] u32
    slotRow: f(B * K, 'slotRow'), // [B·K] u32
    offsets: f(E + 1, 'offsets'), // [E + 1] u32
    logits: f(B * c.vocabSize, 'logits'), // [B, vocab]
  };
}

export type Activations = ReturnType<typeof createActivations>;

/** Records the whole step for T tokens: embedding → layers → norm → LM head into a.logits. */
export async function buildForward(
  gpu: Gpu,
  c: DeepSeekConfig,
  w: GpuDeepSeekWeights,
  a: Activations,
  caches: PagedCache[],
  s: ForwardShape,
): Promise<(pass: GPUComputePassEncoder, T: number) => void> {
  const B = s.maxStepTokens,
    h = c.hiddenSize,
    H = c.numAttentionHeads,
    K = c.numExpertsPerTok,
    E = c.nRoutedExperts;
  const d = mlaDims(c),
    qk = qkHeadDim(c),
    eps = c.rmsNormEps,
    width = d.latent + d.rope;
  const table = uploadRopeTable(gpu, c, s.maxSeqLen);
  const steps: ((pass: GPUComputePassEncoder, T: number) => void)[] = [];
  const add = (op: GpuOp, rows: (T: number) => number = (T) => T) =>
    steps.push((pass, T) => op(pass, rows(T)));
  const perExpert = (T: number) => T * K;

  const passThrough = s.activations === 'f32';
  const quantize = async (x: GPUBuffer, q: GPUBuffer, sc: GPUBuffer, cols: number, maxRows = B) =>
    fp8Quantize(gpu, { x, q, scale: sc }, { cols, maxRows, passThrough });
  const linear = async (
    weight: Fp8WeightBuffers,
    xq: GPUBuffer,
    xs: GPUBuffer,
    out: GPUBuffer,
    accumulate = false,
  ) => fp8Linear(gpu, { weight, xq, xs, out }, { maxRows: B, accumulate });
  /** out (+)= down(silu(gate·x) ⊙ up·x) for a dense MLP or the shared experts; x already quantized in xq. */
  const mlp = async (m: GpuMlp) => {
    const inter = m.gate.rows;
    add(await linear(m.gate, a.xq, a.xs, a.g)); // [T, inter]
    add(await linear(m.up, a.xq, a.xs, a.u)); // [T, inter]
    add(await swiglu(gpu, { gate: a.g, up: a.u }, { n: inter, maxRows: B }));
    add(await quantize(a.g, a.hq, a.hs, inter));
    add(await linear(m.down, a.hq, a.hs, a.x, true)); // x += [T, hidden]
  };

  add(
    await embedding(
      gpu,
      { table: w.embed, rowInfo: a.rowInfo, out: a.x },
      { vocab: c.vocabSize, hidden: h, maxRows: B },
    ),
  ); // [T, hidden]
  for (let l = 0; l < w.layers.length; l++) {
    const L = w.layers[l],
      cache = caches[l];
    // Multi-head latent attention
    add(await rmsNorm(gpu, { x: a.x, weight: L.attnNorm, out: a.xn }, { n: h, eps, maxRows: B })); // [T, hidden]
    add(await quantize(a.xn, a.xq, a.xs, h));
    if (L.qA && L.qANorm) {
      add(await linear(L.qA, a.xq, a.xs, a.qa)); // [T, qLoraRank]
      add(
        await rmsNorm(
          gpu,
          { x: a.qa, weight: L.qANorm, out: a.qan },
          { n: L.qA.rows, eps, maxRows: B },
        ),
      );
      add(await quantize(a.qan, a.hq, a.hs, L.qA.rows));
      add(await linear(L.q, a.hq, a.hs, a.q)); // [T, H·qk]
    } else {
      add(await linear(L.q, a.xq, a.xs, a.q));
    }
    add(await linear(L.kvA, a.xq, a.xs, a.kva)); // [T, latent + rope]
    add(
      await rope(
        gpu,
        { x: a.q, table, rowInfo: a.rowInfo },
        {
          heads: H,
          rowStride: H * qk,
          headStride: qk,
          offset: d.nope,
          dim: d.rope,
          maxPos: s.maxSeqLen,
          maxRows: B,
        },
      ),
    );
    add(
      await rope(
        gpu,
        { x: a.kva, table, rowInfo: a.rowInfo },
        {
          heads: 1,
          rowStride: width,
          headStride: width,
          offset: d.latent,
          dim: d.rope,
          maxPos: s.maxSeqLen,
          maxRows: B,
        },
      ),
    );
    add(
      await rmsNorm(
        gpu,
        { x: a.kva, weight: L.kvANorm, out: a.latent },
        { n: d.latent, eps, maxRows: B, inStride: width },
      ),
    ); // [T, latent]
    add(
      await kvCacheWrite(gpu, { latent: a.latent, kva: a.kva, rowInfo: a.rowInfo }, cache, d, {
        maxRows: B,
      }),
    );
    add(await mlaAbsorbQ(gpu, { q: a.q, kvB: L.kvB, qLat: a.qLat }, d, { maxRows: B })); // [T, H, latent]
    add(
      await mlaDecode(
        gpu,
        { qLat: a.qLat, q: a.q, rowInfo: a.rowInfo, att: a.att, oLat: a.oLat },
        cache,
        d,
        { maxRows: B, maxT: s.maxSeqLen, scale: mlaSoftmaxScale(c) },
      ),
    );
    add(await mlaAbsorbOut(gpu, { oLat: a.oLat, kvB: L.kvB, out: a.attn }, d, { maxRows: B })); // [T, H·v]
    add(await quantize(a.attn, a.hq, a.hs, H * d.v));
    add(await linear(L.o, a.hq, a.hs, a.x, true)); // x += [T, hidden]

    // Feed-forward: dense MLP, or DeepSeekMoE (routed experts grouped by expert, then the shared ones)
    add(await rmsNorm(gpu, { x: a.x, weight: L.ffnNorm, out: a.xn }, { n: h, eps, maxRows: B }));
    add(await quantize(a.xn, a.xq, a.xs, h));
    if (L.dense) {
      await mlp(L.dense);
      continue;
    }
    const moe = L.moe!,
      ex = moe.experts,
      inter = ex.gate.rows;
    add(
      await matmulF32(
        gpu,
        { w: moe.router, x: a.xn, out: a.routerLogits },
        { n: E, k: h, maxRows: B },
      ),
    ); // [T, E]
    add(
      await moeRoute(
        gpu,
        { logits: a.routerLogits, bias: moe.bias, idx: a.idx, weight: a.weight },
        { experts: E, gate: gateOptions(c), maxRows: B },
      ),
    ); // [T, K]
    add(
      await moePermute(
        gpu,
        { idx: a.idx, rowToken: a.rowToken, slotRow: a.slotRow, offsets: a.offsets },
        { experts: E, topK: K, maxRows: B },
      ),
    );
    const grouped = { rowToken: a.rowToken, offsets: a.offsets };
    add(
      await fp8GroupedGemm(
        gpu,
        { weights: ex.gate, xq: a.xq, xs: a.xs, ...grouped, out: a.g },
        { maxRows: B * K, maxSourceRows: B, gather: true },
      ),
      perExpert,
    ); // [T·K, inter]
    add(
      await fp8GroupedGemm(
        gpu,
        { weights: ex.up, xq: a.xq, xs: a.xs, ...grouped, out: a.u },
        { maxRows: B * K, maxSourceRows: B, gather: true },
      ),
      perExpert,
    );
    add(await swiglu(gpu, { gate: a.g, up: a.u }, { n: inter, maxRows: B * K }), perExpert);
    add(await quantize(a.g, a.hq, a.hs, inter, B * K), perExpert);
    add(
      await fp8GroupedGemm(
        gpu,
        { weights: ex.down, xq: a.hq, xs: a.hs, ...grouped, out: a.y },
        { maxRows: B * K, maxSourceRows: B * K, gather: false },
      ),
      perExpert,
    ); // [T·K, hidden]
    add(
      await moeScatterAdd(
        gpu,
        { x: a.x, y: a.y, weight: a.weight, slotRow: a.slotRow },
        { hidden: h, topK: K, maxRows: B },
      ),
    ); // x += Σ_k w·y
    if (moe.shared) await mlp(moe.shared);
  }
  add(await rmsNorm(gpu, { x: a.x, weight: w.norm, out: a.xn }, { n: h, eps, maxRows: B })); // [T, hidden]
  if (w.head.kind === 'f32') {
    add(
      await matmulF32(
        gpu,
        { w: w.head.w, x: a.xn, out: a.logits },
        { n: c.vocabSize, k: h, maxRows: B },
      ),
    ); // [T, vocab]
  } else {
    add(await quantize(a.xn, a.xq, a.xs, h));
    add(await linear(w.head.w, a.xq, a.xs, a.logits));
  }
  return (pass, T) => steps.forEach((step) => step(pass, T));
}
