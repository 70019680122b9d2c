// Wires the origin's expert features into the CPU backend's model: every MoE layer (the MTP module's too,
// labelled as layer num_hidden_layers, its index in the checkpoint) counts its routing into ExpertStats,
// and with --ep its routed experts run on the EP pool's ranks.
import type { WasmDeepSeekModel } from '../../engine/deepseek/wasm-model';
import { moeDims, setMoeHook } from '../../engine/deepseek/wasm-moe';
import type { WasmMoeWeights } from '../../engine/deepseek/wasm-weights';
import type { DeepSeekKit } from '../../engine/deepseek/wasm-linear';
import { EpPool } from './ep-pool';
import { placeExperts } from './eplb';
import { ExpertStats } from './expert-stats';

export interface ExpertParallelOptions {
  /** Rank workers (0: the experts run in the model's own instance). */
  ranks: number;
  /** Redundant slots per rank for replicas of the heaviest experts. */
  redundant: number;
}

export interface ExpertRuntime {
  stats: ExpertStats;
  pool: EpPool | null;
  redundant: number;
}

/** The model's MoE layers: [checkpoint layer index, weights]. */
export function moeLayers(model: WasmDeepSeekModel): [number, WasmMoeWeights][] {
  const w = model.weights;
  const layers: [number, WasmMoeWeights][] = [];
  w.layers.forEach((l, i) => l.moe && layers.push([i, l.moe]));
  if (w.mtp?.block.moe) layers.push([w.layers.length, w.mtp.block.moe]);
  return layers;
}

export async function attachExpertRuntime(
  model: WasmDeepSeekModel,
  kit: DeepSeekKit,
  module: WebAssembly.Module,
  ep: ExpertParallelOptions,
): Promise<ExpertRuntime> {
  const layers = moeLayers(model);
  const dims = moeDims(model.config);
  const stats = new ExpertStats(
    layers.map(([l]) => l),
    dims.experts,
  );
  let pool: EpPool | null = null;
  if (ep.ranks > 0 && layers.length > 0) {
    pool = new EpPool({
      module,
      kit,
      layers: layers.map(([, w]) => w),
      dims,
      maxBatch: model.maxBatch,
      ranks: ep.ranks,
    });
    const even = new Array<number>(dims.experts).fill(1);
    await pool.place(layers.map(() => placeExperts(even, ep.ranks, ep.redundant)));
  }
  layers.forEach(([, w], i) =>
    setMoeHook(w, {
      routed: (offsets) => stats.record(i, offsets),
      ...(pool ? { experts: (call) => pool.run(i, call) } : {}),
    }),
  );
  return { stats, pool, redundant: ep.redundant };
}
