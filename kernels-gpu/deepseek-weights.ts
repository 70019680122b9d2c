// Uploads a loaded DeepSeek-V3 checkpoint (engine/deepseek/weights.ts, loaded with gemm 'fp8') to the GPU
// once: projections stay E4M3 with their 128×128 scales, routed experts of a layer are stacked into one
// buffer per projection; norms, router, kv_b_proj (absorbed, so f32 like the reference), embedding and
// head are f32.
import type { DeepSeekWeights } from '../engine/deepseek/weights';
import type { Linear } from '../engine/deepseek/linear';
import type { MlpWeights } from '../engine/deepseek/moe';
import type { Gpu } from './device';
import { uploadFp8Weights, type Fp8WeightBuffers } from './fp8';
import { GpuKernelError, uploadBuffer } from './kernel';

export interface GpuMlp {
  gate: Fp8WeightBuffers;
  up: Fp8WeightBuffers;
  down: Fp8WeightBuffers;
}

export interface GpuBlock {
  attnNorm: GPUBuffer; // [hidden]
  qA: Fp8WeightBuffers | null; // [qLoraRank, hidden]
  qANorm: GPUBuffer | null; // [qLoraRank]
  q: Fp8WeightBuffers; // q_b_proj [H·qk, qLoraRank], or q_proj [H·qk, hidden]
  kvA: Fp8WeightBuffers; // [latent + rope, hidden]
  kvANorm: GPUBuffer; // [latent]
  kvB: GPUBuffer; // [H·(nope + v), latent] f32
  o: Fp8WeightBuffers; // [hidden, H·v]
  ffnNorm: GPUBuffer; // [hidden]
  dense: GpuMlp | null;
  moe: {
    router: GPUBuffer /* [E, hidden] */;
    bias: GPUBuffer | null /* [E] */;
    experts: GpuMlp /* stacked [E, ...] */;
    shared: GpuMlp | null;
  } | null;
}

export interface GpuDeepSeekWeights {
  embed: GPUBuffer; // [vocab, hidden]
  layers: GpuBlock[];
  norm: GPUBuffer; // [hidden]
  head: { kind: 'f32'; w: GPUBuffer } | { kind: 'fp8'; w: Fp8WeightBuffers }; // [vocab, hidden]
  /** Bytes uploaded. */
  bytes: number;
}

function fp8(gpu: Gpu, lins: Linear[], label: string): Fp8WeightBuffers {
  const l = lins[0];
  if (l.kind !== 'fp8') {
    throw new GpuKernelError(
      `${label}: the WebGPU backend needs FP8 projections (load the checkpoint with gemm: 'fp8'; BF16 checkpoints are not supported yet)`,
    );
  }
  const weights = lins.map((x) => (x.kind === 'fp8' ? x.weight : (null as never)));
  return uploadFp8Weights(gpu, weights, l.rows, l.cols, label, l.block);
}

function mlp(gpu: Gpu, ms: MlpWeights[], label: string): GpuMlp {
  return {
    gate: fp8(
      gpu,
      ms.map((m) => m.gate),
      `${label}.gate`,
    ),
    up: fp8(
      gpu,
      ms.map((m) => m.up),
      `${label}.up`,
    ),
    down: fp8(
      gpu,
      ms.map((m) => m.down),
      `${label}.down`,
    ),
  };
}

export function uploadDeepSeekWeights(gpu: Gpu, w: DeepSeekWeights): GpuDeepSeekWeights {
  const f32 = (data: Float32Array, label: string) => uploadBuffer(gpu, data, label);
  const layers = w.layers.map((b, l): GpuBlock => {
    const p = `layers.${l}`,
      m = b.mla;
    return {
      attnNorm: f32(b.attnNorm, `${p}.attnNorm`),
      qA: m.qA ? fp8(gpu, [m.qA], `${p}.qA`) : null,
      qANorm: m.qANorm ? f32(m.qANorm, `${p}.qANorm`) : null,
      q: fp8(gpu, [m.qB ?? m.q!], `${p}.q`),
      kvA: fp8(gpu, [m.kvA], `${p}.kvA`),
      kvANorm: f32(m.kvANorm, `${p}.kvANorm`),
      kvB: f32(m.kvB, `${p}.kvB`),
      o: fp8(gpu, [m.o], `${p}.o`),
      ffnNorm: f32(b.ffnNorm, `${p}.ffnNorm`),
      dense: b.dense ? mlp(gpu, [b.dense], `${p}.mlp`) : null,
      moe: b.moe && {
        router: f32(b.moe.router, `${p}.router`),
        bias: b.moe.bias && f32(b.moe.bias, `${p}.routerBias`),
        experts: mlp(gpu, b.moe.experts, `${p}.experts`),
        shared: b.moe.shared && mlp(gpu, [b.moe.shared], `${p}.shared`),
      },
    };
  });
  const h = w.lmHead;
  const head =
    h.kind === 'fp8'
      ? { kind: 'fp8' as const, w: fp8(gpu, [h], 'lmHead') }
      : { kind: 'f32' as const, w: f32(h.w, 'lmHead') };
  const out = { embed: f32(w.embed, 'embed'), layers, norm: f32(w.norm, 'norm'), head };
  return { ...out, bytes: bufferBytes(out) };
}

/** Sum of the sizes of every GPUBuffer reachable from `o`. */
export function bufferBytes(o: unknown): number {
  if (!o || typeof o !== 'object') return 0;
  if (o instanceof GPUBuffer) return o.size;
  return Object.values(o).reduce((s: number, v) => s + bufferBytes(v), 0);
}
