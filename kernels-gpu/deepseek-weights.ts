// Uploads a loaded DeepSeek-V3 checkpoint (engine/deepseek/weights.ts, loaded with gemm 'fp8') to the GPU
// once: projections stay E4M3 with their 128×128 scales, routed experts of a layer are stacked into one
// buffer per projection; norms, router, kv_b_proj (absorbed, so f32 like the reference), embedding and
// head are f32. Buffers are labelled with their checkpoint names from the tensor table (hf-names.ts).
import { deepSeekTensors, type MlpTensors, type TensorSpec } from '../engine/deepseek/hf-names';
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

/** A buffer's label: the tensor's name, or the first of a stack and how many follow. */
const labelOf = (specs: TensorSpec[]) =>
  specs.length === 1 ? specs[0].name : `${specs[0].name} (+${specs.length - 1} stacked)`;

function fp8(gpu: Gpu, lins: Linear[], specs: TensorSpec[]): Fp8WeightBuffers {
  const l = lins[0],
    label = labelOf(specs);
  if (l.kind !== 'fp8') {
    throw new GpuKernelError(
      `${label}: the WebGPU backend needs FP8 projections (load the checkpoint with gemm: 'fp8'; BF16 checkpoints are not supported yet)`,
    );
  }
  const weights = lins.map((x) => (x.kind === 'fp8' ? x.weight : (null as never)));
  return uploadFp8Weights(gpu, weights, l.rows, l.cols, label, l.block);
}

function mlp(gpu: Gpu, ms: MlpWeights[], ts: MlpTensors[]): GpuMlp {
  const part = (k: keyof MlpWeights) =>
    fp8(
      gpu,
      ms.map((m) => m[k]),
      ts.map((t) => t[k]),
    );
  return { gate: part('gate'), up: part('up'), down: part('down') };
}

export function uploadDeepSeekWeights(gpu: Gpu, w: DeepSeekWeights): GpuDeepSeekWeights {
  const f32 = (data: Float32Array, spec: TensorSpec) => uploadBuffer(gpu, data, spec.name);
  const t = deepSeekTensors(w.config);
  const layers = w.layers.map((b, l): GpuBlock => {
    const tb = t.layers[l],
      m = b.mla,
      tm = tb.mla;
    return {
      attnNorm: f32(b.attnNorm, tb.attnNorm),
      qA: m.qA && tm.qA ? fp8(gpu, [m.qA], [tm.qA]) : null,
      qANorm: m.qANorm && tm.qANorm ? f32(m.qANorm, tm.qANorm) : null,
      q: fp8(gpu, [m.qB ?? m.q!], [tm.qB ?? tm.q!]),
      kvA: fp8(gpu, [m.kvA], [tm.kvA]),
      kvANorm: f32(m.kvANorm, tm.kvANorm),
      kvB: f32(m.kvB, tm.kvB),
      o: fp8(gpu, [m.o], [tm.o]),
      ffnNorm: f32(b.ffnNorm, tb.ffnNorm),
      dense: b.dense && tb.dense ? mlp(gpu, [b.dense], [tb.dense]) : null,
      moe: b.moe &&
        tb.moe && {
          router: f32(b.moe.router, tb.moe.router),
          bias: b.moe.bias && f32(b.moe.bias, tb.moe.bias),
          experts: mlp(gpu, b.moe.experts, tb.moe.experts),
          shared: b.moe.shared && tb.moe.shared && mlp(gpu, [b.moe.shared], [tb.moe.shared]),
        },
    };
  });
  const h = w.lmHead,
    headSpec = t.lmHead ?? t.embed; // a tied head is the embedding
  const head =
    h.kind === 'fp8'
      ? { kind: 'fp8' as const, w: fp8(gpu, [h], [headSpec]) }
      : { kind: 'f32' as const, w: f32(h.w, headSpec) };
  const out = { embed: f32(w.embed, t.embed), layers, norm: f32(w.norm, t.norm), head };
  return { ...out, bytes: bufferBytes(out) };
}

/** Sum of the sizes of every GPUBuffer reachable from `o`. */
export function bufferBytes(o: unknown): number {
  if (!o || typeof o !== 'object') return 0;
  if (o instanceof GPUBuffer) return o.size;
  return Object.values(o).reduce((s: number, v) => s + bufferBytes(v), 0);
}
