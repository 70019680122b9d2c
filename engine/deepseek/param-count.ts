// Parameter counts of a DeepSeek-V3-architecture config, summed over the checkpoint's tensor table
// (hf-names.ts) as the checkpoint stores them (norm weights and the router's e_score_correction_bias included, FP8 scales excluded).
// "Active" counts what one token touches: attention, dense MLPs, the shared experts and its top-k
// routed experts, the router, embedding row space and the head (DeepSeek counts both in 36.7B).
import type { DeepSeekConfig } from './config';
import { deepSeekTensors, tensorElements, type BlockTensors } from './hf-names';

export interface DeepSeekParamCount {
  /** Embedding + num_hidden_layers blocks + final norm + lm_head (DeepSeek's "671B"). */
  mainTotal: number;
  mainActive: number;
  /** MTP modules without their copies of the embedding and head (DeepSeek's "11.5B unique"). */
  mtpUnique: number;
  /** MTP parameters one speculative step touches, including the shared embedding and head. */
  mtpActive: number;
  /** Everything the HF checkpoint stores: main + MTP, whose embed_tokens and shared_head.head are stored copies ("685B"). */
  checkpointTotal: number;
}

/** Elements of a block one token does not touch: the routed experts beyond its top-k. */
function idleElements(c: DeepSeekConfig, b: BlockTensors): number {
  return b.moe ? tensorElements(b.moe.experts.slice(c.numExpertsPerTok)) : 0;
}

export function countDeepSeekParams(c: DeepSeekConfig): DeepSeekParamCount {
  const t = deepSeekTensors(c);
  const { mtp, ...main } = t;
  const mainTotal = tensorElements(main);
  const mainActive = t.layers.reduce((n, b) => n - idleElements(c, b), mainTotal);
  let mtpUnique = 0,
    mtpActive = 0;
  for (const m of mtp) {
    const all = tensorElements(m);
    mtpUnique += all - tensorElements(m.embed) - tensorElements(m.head);
    mtpActive += all - idleElements(c, m.block);
  }
  return { mainTotal, mainActive, mtpUnique, mtpActive, checkpointTotal: tensorElements(t) };
}
