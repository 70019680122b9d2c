// The CPU step backend: engine/deepseek/wasm-model.ts (kernels-wasm's f32 SIMD DeepSeek ops, the code the
// edge runs) batched over the scheduler's sequences, one slot each. A step is every active sequence's next
// token(s) in one forward, each weight read once for all of them. Saved KV rows are the slots' f32 latent
// rows (c_kv, k_pe), so the prefix cache can also hold them as encoded latent entries.
// tests/origin/backend.test.ts compares it with the float64 reference model by NMSE and greedy tokens.
import { deepSeekKit } from '../../engine/deepseek/wasm-linear';
import { WasmDeepSeekModel } from '../../engine/deepseek/wasm-model';
import type { LatentRows } from '../../engine/prompt-cache/index';
import { createWasmKernels } from '../../kernels-wasm/index';
import { loadKernelsModule } from '../../kernels-wasm/node';
import { attachExpertRuntime, type ExpertRuntime } from '../ep/expert-hooks';
import { StartupError } from './select';
import type {
  DraftSequence,
  Drafter,
  KvRows,
  LatentAccess,
  StepBackend,
  StepSequence,
} from './step-backend';

export interface CpuBackendOptions {
  /** Concurrent sequences (each holds a latent cache of maxSeqLen positions). */
  maxSlots: number;
  /** Positions per slot (default: min(max_position_embeddings, 4096)). */
  maxSeqLen?: number;
  /** Most tokens per step (default 256). */
  maxStepTokens?: number;
  /** 'fp8' (default): FP8 weights stay FP8 (1 byte each); 'dequantized': f32 at load. */
  gemm?: 'fp8' | 'dequantized';
  /** Place the checkpoint's MTP module as the drafter, when it has one (default false). */
  mtp?: boolean;
  /** Expert parallelism: routed experts on this many worker threads (default 0: in-process). */
  ep?: number;
  /** Redundant expert slots per EP rank (default 0). */
  epRedundant?: number;
}

/** Every layer's c_kv [count, latent] and k_pe [count, rope] rows of one slot, from position `start`. */
interface LatentKvRows extends KvRows {
  start: number;
  layers: { kv: Float32Array; pe: Float32Array }[];
}

/** kernels-wasm/build/kernels.wasm (npm install and npm test build it): a startup error when missing. */
async function kernelsModule(): Promise<WebAssembly.Module> {
  try {
    return await loadKernelsModule();
  } catch (err) {
    throw new StartupError(`the CPU backend: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export class CpuBackend implements StepBackend {
  readonly name = 'cpu';
  readonly vocabSize: number;
  readonly maxSeqLen: number;
  readonly maxSlots: number;
  readonly maxStepTokens: number;
  readonly maxLogitRows: number;
  readonly latents: LatentAccess;
  readonly drafter?: Drafter;
  private readonly freeSlots: number[];

  /** files: the checkpoint (config.json and *.safetensors), as origin/model/load.ts reads it. */
  static async create(
    files: Record<string, Uint8Array>,
    opts: CpuBackendOptions,
  ): Promise<CpuBackend> {
    const maxBatch = opts.maxStepTokens ?? 256;
    // A sequence verifying a draft wants two rows of logits (the step's, then rowLogits').
    const rowsPerSeq = opts.mtp ? 2 : 1;
    const module = await kernelsModule();
    const mem = await createWasmKernels(module);
    const model = new WasmDeepSeekModel(mem, files, {
      maxSlots: opts.maxSlots,
      maxSeqLen: opts.maxSeqLen,
      maxBatch,
      maxLogitRows: Math.min(rowsPerSeq * opts.maxSlots, maxBatch),
      gemm: opts.gemm,
      mtp: opts.mtp,
    });
    // Expert-load counting always (one add per expert and layer per step); EP ranks with --ep.
    const experts = await attachExpertRuntime(model, deepSeekKit(mem), module, {
      ranks: opts.ep ?? 0,
      redundant: opts.epRedundant ?? 0,
    });
    return new CpuBackend(model, experts);
  }

  private constructor(
    readonly model: WasmDeepSeekModel,
    /** Per-expert token counts of every MoE layer, and the EP pool when --ep is on. */
    readonly experts: ExpertRuntime,
  ) {
    const c = model.config;
    this.vocabSize = c.vocabSize;
    this.maxSeqLen = model.maxSeqLen;
    this.maxSlots = model.maxSlots;
    this.maxStepTokens = model.maxBatch;
    this.maxLogitRows = model.maxLogitRows;
    this.freeSlots = Array.from({ length: this.maxSlots }, (_, i) => this.maxSlots - 1 - i);
    this.latents = {
      shape: { nLayers: c.numHiddenLayers, kvLoraRank: c.kvLoraRank, ropeDim: c.qkRopeHeadDim },
      toLatents,
      fromLatents,
    };
    if (model.hasMtp)
      this.drafter = {
        name: 'mtp',
        draft: async (batch: readonly DraftSequence[]) => model.draft(batch),
        rowLogits: async (rows: readonly number[]) => model.rowLogits(rows),
      };
  }

  allocate(): number | null {
    return this.freeSlots.pop() ?? null;
  }

  free(slot: number): void {
    if (this.freeSlots.includes(slot)) throw new Error(`slot ${slot} freed twice`);
    this.freeSlots.push(slot);
  }

  async step(batch: readonly StepSequence[]): Promise<Float32Array[]> {
    return this.model.step(batch);
  }

  saveKv(slot: number, start: number, count: number): KvRows {
    const { kvLoraRank: C, ropeDim: R, nLayers } = this.latents.shape;
    const layers = Array.from({ length: nLayers }, (_, l) => {
      const { kv, pe } = this.model.cacheRows(slot, l);
      return {
        kv: kv.slice(start * C, (start + count) * C),
        pe: pe.slice(start * R, (start + count) * R),
      };
    });
    const rows: LatentKvRows = {
      tokens: count,
      bytes: nLayers * count * (C + R) * 4,
      start,
      layers,
    };
    return rows;
  }

  restoreKv(slot: number, start: number, rows: KvRows): void {
    const { kvLoraRank: C, ropeDim: R } = this.latents.shape;
    (rows as LatentKvRows).layers.forEach((saved, l) => {
      const { kv, pe } = this.model.cacheRows(slot, l);
      kv.set(saved.kv, start * C);
      pe.set(saved.pe, start * R);
    });
  }
}

/**
 * Saved rows as the prompt cache's latent rows [nLayers, count, width], in f32: the rows are f32, so
 * every codec reads the same values it would from f64, at half the memory per hand-off.
 */
function toLatents(rows: KvRows): LatentRows {
  const { start, tokens: count, layers } = rows as LatentKvRows;
  const C = layers[0].kv.length / count,
    R = layers[0].pe.length / count;
  const cKv = new Float32Array(layers.length * count * C),
    kPe = new Float32Array(layers.length * count * R);
  layers.forEach(({ kv, pe }, l) => {
    cKv.set(kv, l * count * C);
    kPe.set(pe, l * count * R);
  });
  return { nLayers: layers.length, kvLoraRank: C, ropeDim: R, start, count, cKv, kPe };
}

/** Views of decoded f32 latents (no copy: restoreKv copies them into a slot), f64 ones converted. */
function fromLatents(r: LatentRows): KvRows {
  const C = r.kvLoraRank,
    R = r.ropeDim,
    n = r.count;
  const f32 = (x: LatentRows['cKv'], from: number, to: number) =>
    x instanceof Float32Array ? x.subarray(from, to) : Float32Array.from(x.subarray(from, to));
  const layers = Array.from({ length: r.nLayers }, (_, l) => ({
    kv: f32(r.cKv, l * n * C, (l + 1) * n * C),
    pe: f32(r.kPe, l * n * R, (l + 1) * n * R),
  }));
  const rows: LatentKvRows = {
    tokens: n,
    bytes: r.nLayers * n * (C + R) * 4,
    start: r.start,
    layers,
  };
  return rows;
}
