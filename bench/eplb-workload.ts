// One window of bench/eplb.ts on a CPU backend: the prompts prefilled in one step, then greedy decode
// steps of all of them. Returns the per-expert load it routed (the backend's ExpertStats window, MoE
// layers that saw tokens) and its times: whole steps, and with --ep the routed-expert part (EpPool.run,
// which returns once the slowest rank is done and the outputs are combined).
import { argmax } from '../engine/deepseek/ops';
import type { CpuBackend } from '../origin/backend/cpu-backend';
import type { StepSequence } from '../origin/backend/step-backend';

export interface WorkloadShape {
  seqs: number;
  prompt: number;
  decode: number;
}

export interface WorkloadResult {
  /** [MoE layer][expert] routed tokens. */
  load: number[][];
  layers: number[];
  prefillStepMs: number;
  decodeStepMs: number;
  /** Routed-expert time (--ep only; NaN locally), summed over the MoE layers of one step. */
  moePrefillMs: number;
  moeDecodeMs: number;
}

export async function runWorkload(
  b: CpuBackend,
  prompts: number[][],
  shape: WorkloadShape,
): Promise<WorkloadResult> {
  const pool = b.experts.pool;
  let moeMs = 0;
  if (pool) {
    const run = pool.run.bind(pool);
    pool.run = (layer, call) => {
      const t = performance.now();
      run(layer, call);
      moeMs += performance.now() - t;
    };
  }
  b.experts.stats.reset();
  const slots = prompts.map(() => b.allocate()!);
  let batch: StepSequence[] = prompts.map((p, i) => ({
    slot: slots[i],
    tokens: p,
    startPos: 0,
    wantLogits: true,
  }));
  const pos = prompts.map((p) => p.length);
  const r = { prefillStepMs: 0, decodeStepMs: 0, moePrefillMs: NaN, moeDecodeMs: NaN };
  let decodeMoe = 0;
  try {
    for (let i = 0; i <= shape.decode; i++) {
      moeMs = 0;
      const t = performance.now();
      const logits = await b.step(batch);
      const ms = performance.now() - t;
      if (i === 0) {
        r.prefillStepMs = ms;
        r.moePrefillMs = moeMs;
      } else {
        r.decodeStepMs += ms / shape.decode;
        decodeMoe += moeMs / shape.decode;
      }
      batch = logits.map((l, s) => ({
        slot: slots[s],
        tokens: [argmax(l)],
        startPos: pos[s]++,
        wantLogits: true,
      }));
    }
  } finally {
    slots.forEach((s) => b.free(s));
    if (pool) delete (pool as { run?: unknown }).run; // back to the class's method
  }
  if (pool) r.moeDecodeMs = decodeMoe;
  const snap = b.experts.stats.snapshot().filter((l) => l.tokens > 0);
  return { ...r, load: snap.map((l) => l.counts), layers: snap.map((l) => l.layer) };
}
