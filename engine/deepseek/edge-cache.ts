// Room: engine/deepseek (edge). The edge DeepSeek engine's side of the prompt cache: MLA latent rows
// (engine/prompt-cache/latent-rows.ts: c_kv after kv_norm and the roped k_pe of every layer) written
// into a slot's latent cache, as the CPU origin's backend saves and restores them
// (origin/backend/cpu-backend.ts), so blocks an origin computed, or an earlier request stored, start a
// generation here. Rows are checked (shape, order from position 0, within the prompt) before any is
// written: a caller's mistake is an error, never a half-restored slot.
import type { LatentRows, LatentShape } from '../prompt-cache/latent-rows';
import { sameLatentShape } from '../prompt-cache/latent-rows';
import type { WasmDeepSeekModel } from './wasm-model';

/** The latent shape of a model's cache: what its prompt-cache entries must hold. */
export const latentShapeOf = (model: WasmDeepSeekModel): LatentShape => ({
  nLayers: model.config.numHiddenLayers,
  kvLoraRank: model.config.kvLoraRank,
  ropeDim: model.config.qkRopeHeadDim,
});

/**
 * Writes `rows` (positions 0..k-1 of this prompt, in order) into `slot`; returns where prefill starts:
 * k, or the last prompt token when every position was restored (its logits are needed).
 */
export function restoreLatentRows(
  model: WasmDeepSeekModel,
  slot: number,
  rows: readonly LatentRows[],
  promptTokens: number,
): number {
  const shape = latentShapeOf(model);
  let next = 0;
  for (const r of rows) {
    if (!sameLatentShape(r, shape))
      throw new RangeError("restored latent rows do not have the model's latent shape");
    if (r.start !== next)
      throw new RangeError(`restored rows start at ${r.start}, expected ${next}`);
    next += r.count;
  }
  if (next > promptTokens)
    throw new RangeError(`restored ${next} positions of a ${promptTokens}-token prompt`);
  const { kvLoraRank: C, ropeDim: R, nLayers } = shape;
  for (const r of rows)
    for (let l = 0; l < nLayers; l++) {
      const { kv, pe } = model.cacheRows(slot, l);
      kv.set(r.cKv.subarray(l * r.count * C, (l + 1) * r.count * C), r.start * C);
      pe.set(r.kPe.subarray(l * r.count * R, (l + 1) * r.count * R), r.start * R);
    }
  return Math.min(next, promptTokens - 1);
}
