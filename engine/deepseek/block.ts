// One DeepSeek-V3 transformer block for one token, shared by the main layers and the MTP modules:
// x += MLA(rmsnorm(x)); x += FFN(rmsnorm(x)), FFN dense for the first first_k_dense_replace layers and
// DeepSeekMoE after. BlockContext holds what a session computes once: dims, scales, rope tables, scratch.
import { qkHeadDim, type DeepSeekConfig } from './config';
import { createLinearScratch } from './linear';
import { mlaForward, type MlaDims, type MlaScratch, type MlaCache } from './mla';
import {
  createGateScratch,
  gateOptions,
  mlpForward,
  moeForward,
  type GateOptions,
  type MoeScratch,
} from './moe';
import { rmsNorm } from './ops';
import { mlaSoftmaxScale, ropeAngles, ropeAttentionFactor, ropeInvFreq } from './rope';
import type { BlockWeights } from './weights';

export interface BlockContext {
  config: DeepSeekConfig;
  dims: MlaDims;
  softmaxScale: number;
  gate: GateOptions;
  invFreq: Float64Array; // [rope/2]
  attnFactor: number;
  xb: Float64Array; // [hidden] normed input of a sub-layer
  out: Float64Array; // [hidden] sub-layer output
  mla: MlaScratch;
  moe: MoeScratch;
}

export function mlaDims(c: DeepSeekConfig): MlaDims {
  return {
    heads: c.numAttentionHeads,
    nope: c.qkNopeHeadDim,
    rope: c.qkRopeHeadDim,
    v: c.vHeadDim,
    latent: c.kvLoraRank,
  };
}

/** Allocates everything a session needs to run blocks over up to maxT positions. */
export function createBlockContext(c: DeepSeekConfig, maxT: number): BlockContext {
  const d = mlaDims(c),
    h = c.hiddenSize,
    H = c.numAttentionHeads;
  const inter = Math.max(c.intermediateSize, c.moeIntermediateSize * Math.max(1, c.nSharedExperts));
  const widest = Math.max(2 * h, inter, H * c.vHeadDim, c.qLoraRank ?? 0);
  const tallest = Math.max(
    c.vocabSize,
    H * qkHeadDim(c),
    inter,
    c.kvLoraRank + c.qkRopeHeadDim,
    2 * h,
  );
  const lin = createLinearScratch(widest, tallest, c.quantization?.weightBlockSize[1] ?? 128);
  return {
    config: c,
    dims: d,
    softmaxScale: mlaSoftmaxScale(c),
    gate: gateOptions(c),
    invFreq: ropeInvFreq(c.qkRopeHeadDim, c.ropeTheta, c.ropeScaling),
    attnFactor: ropeAttentionFactor(c.ropeScaling),
    xb: new Float64Array(h),
    out: new Float64Array(h),
    mla: {
      qLat: new Float64Array(c.qLoraRank ?? 0),
      q: new Float64Array(H * qkHeadDim(c)),
      qNope: new Float64Array(H * d.nope),
      qPe: new Float64Array(H * d.rope),
      kvA: new Float64Array(d.latent + d.rope),
      kvNorm: new Float64Array(d.latent),
      attnOut: new Float64Array(H * d.v),
      absorbed: {
        qLat: new Float64Array(d.latent),
        oLat: new Float64Array(d.latent),
        att: new Float64Array(maxT),
      },
      cos: new Float64Array(d.rope / 2),
      sin: new Float64Array(d.rope / 2),
      lin,
    },
    moe: {
      h1: new Float64Array(inter),
      h3: new Float64Array(inter),
      y: new Float64Array(h),
      logits: new Float64Array(c.nRoutedExperts),
      idx: new Int32Array(c.numExpertsPerTok),
      weight: new Float64Array(c.numExpertsPerTok),
      gate: createGateScratch(c.nRoutedExperts, c.nGroup),
      lin,
    },
  };
}

/** x[hidden] of the token at pos, in place, through one block; writes the block's cache row at pos. */
export function blockForward(
  x: Float64Array,
  pos: number,
  w: BlockWeights,
  cache: MlaCache,
  ctx: BlockContext,
): void {
  const c = ctx.config,
    h = c.hiddenSize;
  ropeAngles(pos, ctx.invFreq, ctx.attnFactor, ctx.mla.cos, ctx.mla.sin);
  rmsNorm(ctx.xb, x, w.attnNorm, h, c.rmsNormEps);
  mlaForward(ctx.out, ctx.xb, pos, w.mla, cache, ctx.dims, c.rmsNormEps, ctx.softmaxScale, ctx.mla);
  for (let i = 0; i < h; i++) x[i] += ctx.out[i];

  rmsNorm(ctx.xb, x, w.ffnNorm, h, c.rmsNormEps);
  if (w.dense) mlpForward(ctx.out, ctx.xb, w.dense, ctx.moe);
  else moeForward(ctx.out, ctx.xb, w.moe!, ctx.gate, h, ctx.moe);
  for (let i = 0; i < h; i++) x[i] += ctx.out[i];
}
