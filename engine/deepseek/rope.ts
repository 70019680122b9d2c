// Decoupled rotary embedding of MLA's rope part, with YaRN context extension.
//
// Layout: interleaved pairs. Pair (2i, 2i+1) turns by pos·invFreq[i], as DeepSeek's inference code
// does (view_as_complex over adjacent pairs). transformers' modeling_deepseek de-interleaves q_pe/k_pe
// before its rotate_half, so HF checkpoints hold the rope rows in this same interleaved order: our
// weights load unpermuted, and the synthetic generator writes them in this order too.
//
// YaRN follows the HF config semantics: frequencies are corrected whenever rope_scaling is present;
// cos/sin are multiplied by mscale(factor, mscale)/mscale(factor, mscale_all_dim); the softmax scale is
// multiplied by mscale(factor, mscale_all_dim)². (DeepSeek-V3 ships mscale = mscale_all_dim = 1.)
import type { DeepSeekConfig, YarnRopeScaling } from './config';
import type { Vec } from './ops';

export function yarnMscale(factor: number, mscale: number): number {
  return factor <= 1 ? 1 : 0.1 * mscale * Math.log(factor) + 1;
}

/** [low, high] rotary dims between which YaRN blends extrapolated and interpolated frequencies. */
export function yarnCorrectionRange(
  dim: number,
  theta: number,
  s: YarnRopeScaling,
): [number, number] {
  // The dim index whose wavelength makes `rotations` turns over the original context.
  const dimFor = (rotations: number) =>
    (dim * Math.log(s.originalMaxPositionEmbeddings / (rotations * 2 * Math.PI))) /
    (2 * Math.log(theta));
  return [
    Math.max(Math.floor(dimFor(s.betaFast)), 0),
    Math.min(Math.ceil(dimFor(s.betaSlow)), dim - 1),
  ];
}

/** invFreq[dim/2]: theta^(-2i/dim), YaRN-corrected when scaling is given. */
export function ropeInvFreq(
  dim: number,
  theta: number,
  scaling: YarnRopeScaling | null,
): Float64Array {
  const half = dim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / theta ** ((2 * i) / dim);
  if (!scaling) return inv;
  const [low, high] = yarnCorrectionRange(dim, theta, scaling);
  const span = high === low ? 0.001 : high - low;
  for (let i = 0; i < half; i++) {
    const ramp = Math.min(1, Math.max(0, (i - low) / span)); // 0: keep (high frequency), 1: interpolate
    inv[i] = (inv[i] / scaling.factor) * ramp + inv[i] * (1 - ramp);
  }
  return inv;
}

/** Multiplier of cos/sin (1 for DeepSeek-V3's config). */
export function ropeAttentionFactor(scaling: YarnRopeScaling | null): number {
  return scaling
    ? yarnMscale(scaling.factor, scaling.mscale) / yarnMscale(scaling.factor, scaling.mscaleAllDim)
    : 1;
}

/** MLA's softmax scale: 1/sqrt(qk_head_dim), times mscale² under YaRN. */
export function mlaSoftmaxScale(c: DeepSeekConfig): number {
  const base = 1 / Math.sqrt(c.qkNopeHeadDim + c.qkRopeHeadDim);
  if (!c.ropeScaling) return base;
  const m = yarnMscale(c.ropeScaling.factor, c.ropeScaling.mscaleAllDim);
  return base * m * m;
}

/** cos[i], sin[i] of pos·invFreq[i], times attnFactor. */
export function ropeAngles(
  pos: number,
  invFreq: Float64Array,
  attnFactor: number,
  cos: Float64Array,
  sin: Float64Array,
): void {
  for (let i = 0; i < invFreq.length; i++) {
    cos[i] = Math.cos(pos * invFreq[i]) * attnFactor;
    sin[i] = Math.sin(pos * invFreq[i]) * attnFactor;
  }
}

/** In place on x[offset .. offset+dim): pair (2i, 2i+1) rotated by angle i. */
export function applyRope(
  x: Vec,
  offset: number,
  dim: number,
  cos: Float64Array,
  sin: Float64Array,
): void {
  for (let i = 0; i < dim / 2; i++) {
    const a = x[offset + 2 * i],
      b = x[offset + 2 * i + 1];
    x[offset + 2 * i] = a * cos[i] - b * sin[i];
    x[offset + 2 * i + 1] = a * sin[i] + b * cos[i];
  }
}
