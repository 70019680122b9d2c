// One transformer block of the WASM DeepSeek forward over a step's T tokens (each of its own slot and
// position): pre-norm MLA, residual, pre-norm dense MLP or MoE, residual. The main model runs it per layer,
// the MTP module (wasm-mtp.ts) once over its own block and caches; both share the step's buffers.
import type { MlaDims } from './mla';
import type { GateOptions } from './moe';
import type { DeepSeekKit } from './wasm-linear';
import { wasmMlaForward, type MlaBuffers, type StepTokens, type WasmMlaCache } from './wasm-mla';
import { wasmMlpForward, wasmMoeForward, type MoeBuffers } from './wasm-moe';
import type { WasmBlockWeights } from './wasm-weights';

/** What a step's blocks read and write: the residual stream and scratch, allocated once per model. */
export interface BlockStep {
  kit: DeepSeekKit;
  heap: Float32Array;
  dims: MlaDims;
  gate: GateOptions;
  hidden: number;
  eps: number;
  /** MLA's softmax scale. */
  scale: number;
  tok: StepTokens;
  x: number; // [maxBatch, hidden] residual stream
  xb: number; // [maxBatch, hidden] normed sub-layer input
  out: number; // [maxBatch, hidden] sub-layer output
  mla: MlaBuffers;
  moe: MoeBuffers;
}

/** x[T, hidden] += MLA(norm(x)); x += MLP/MoE(norm(x)); caches: the block's cache of each slot. */
export function wasmBlockForward(
  s: BlockStep,
  layer: WasmBlockWeights,
  caches: WasmMlaCache[],
  T: number,
): void {
  const { kit, x, xb, out, hidden: h, eps } = s,
    { k } = kit;
  for (let t = 0; t < T; t++) k.rmsnorm(xb + 4 * t * h, x + 4 * t * h, layer.attnNorm, h, eps);
  wasmMlaForward(kit, s.heap, out, xb, T, s.tok, layer.mla, caches, s.dims, eps, s.scale, s.mla);
  k.add(x, out, T * h);
  for (let t = 0; t < T; t++) k.rmsnorm(xb + 4 * t * h, x + 4 * t * h, layer.ffnNorm, h, eps);
  if (layer.dense) wasmMlpForward(kit, out, xb, T, layer.dense, s.moe);
  else wasmMoeForward(kit, s.heap, out, xb, T, layer.moe!, s.gate, h, s.moe);
  k.add(x, out, T * h);
}
