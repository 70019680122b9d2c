// Expert parallelism inside the origin (`--ep N`): the routed experts of every MoE layer run on N worker
// threads (ep-worker.ts), each holding only the experts of its slots. Per layer and step, as DeepEP does
// across GPUs: dispatch — each routed row goes into shared memory at its place in the expert-sorted order
// and each rank gets the runs of rows of the experts it holds (an expert's replicas split its rows into
// contiguous shares); the main thread meanwhile runs the shared expert; combine — once every rank is
// done, the main thread adds the weighted outputs expert by expert in expert order, as the local forward
// does, so the result does not depend on the placement. The main thread blocks in Atomics.wait: the
// forward stays synchronous. A new placement (eplb.ts) is loaded by the ranks first and used from the
// next dispatch after every rank is ready.
import { Worker } from 'node:worker_threads';
import type { DeepSeekKit } from '../../engine/deepseek/wasm-linear';
import type { MoeDims, RoutedExperts } from '../../engine/deepseek/wasm-moe';
import type { WasmMoeWeights } from '../../engine/deepseek/wasm-weights';
import type { Placement } from './eplb';
import {
  createEpBuffer,
  CTL,
  epViews,
  rankCells,
  TASK_INTS,
  type EpLayout,
  type EpViews,
} from './ep-layout';
import type { LoadMessage } from './ep-worker';
import { copyMlp } from './expert-weights';

/** A rank that has not answered in this long has died: the step fails instead of hanging. */
const RANK_TIMEOUT_MS = 60_000;

export interface EpPoolOptions {
  module: WebAssembly.Module;
  kit: DeepSeekKit;
  /** The model's MoE layers, one per layer slot. */
  layers: WasmMoeWeights[];
  dims: MoeDims;
  maxBatch: number;
  ranks: number;
}

export class EpPool {
  /** The placement each dispatch uses, per layer slot. */
  placements: Placement[] = [];
  private version = 0;
  private readonly workers: Worker[];
  private readonly v: EpViews;
  private readonly layout: EpLayout;
  private readonly ready = new Map<
    number,
    { left: number; resolve: () => void; reject: (e: Error) => void }
  >();
  private failure: string | null = null;

  constructor(private readonly o: EpPoolOptions) {
    const maxTasks = 2 * o.dims.experts; // a rank runs one task per slot: ceil(E / N) + redundant ≤ 2E
    this.layout = {
      ranks: o.ranks,
      maxTasks,
      maxRows: o.maxBatch * o.dims.topK,
      hidden: o.dims.hidden,
      experts: o.dims.experts,
    };
    const sab = createEpBuffer(this.layout);
    this.v = epViews(sab, this.layout);
    const url = new URL('./ep-worker.ts', import.meta.url);
    this.workers = Array.from({ length: o.ranks }, (_, rank) => {
      const w = new Worker(url, {
        workerData: { module: o.module, sab, layout: this.layout, rank },
        execArgv: ['--import', 'tsx'],
      });
      w.on('message', (m: { type: string; version?: number; message?: string }) =>
        this.onMessage(m),
      );
      w.on('error', (err) => this.onMessage({ type: 'error', message: err.message }));
      return w;
    });
  }

  private onMessage(m: { type: string; version?: number; message?: string }): void {
    if (m.type === 'ready') {
      const r = this.ready.get(m.version!);
      if (r && --r.left === 0) r.resolve();
      return;
    }
    this.failure = m.message ?? 'an EP rank failed';
    for (const r of this.ready.values()) r.reject(new Error(this.failure));
  }

  /** Loads a placement (per layer slot) into the ranks, then makes it the one dispatches use. */
  async place(placements: Placement[]): Promise<void> {
    for (const p of placements)
      if (p.slotsPerRank > this.layout.maxTasks || p.ranks !== this.o.ranks)
        throw new Error(`a placement of ${p.ranks} ranks × ${p.slotsPerRank} slots does not fit`);
    const version = ++this.version;
    const E = this.o.dims.experts;
    const done = new Promise<void>((resolve, reject) =>
      this.ready.set(version, { left: this.o.ranks, resolve, reject }),
    );
    for (let rank = 0; rank < this.o.ranks; rank++) {
      const keys = new Set<number>();
      placements.forEach((p, l) => p.slots[rank].forEach((e) => keys.add(l * E + e)));
      const experts = [...keys].map((key) => ({
        key,
        mlp: copyMlp(this.o.kit.mem, this.o.layers[Math.floor(key / E)].experts[key % E]),
      }));
      const msg: LoadMessage = {
        type: 'load',
        version,
        dims: this.o.dims,
        maxBatch: this.o.maxBatch,
        experts,
      };
      this.workers[rank].postMessage(msg);
    }
    try {
      await done;
    } finally {
      this.ready.delete(version);
    }
    this.placements = placements;
    this.v.ctl[CTL.version] = version;
  }

  /** The MoE hook's routed-expert run for layer slot `layer` (wasm-moe.ts calls it after routing). */
  run(layer: number, call: RoutedExperts): void {
    const { kit, out, x, n, b, offsets, topK: K, hidden: h } = call;
    const { ctl, tasks, rows } = this.v;
    const E = this.o.dims.experts,
      p = this.placements[layer];
    let heap = kit.mem.f32(0, kit.mem.bytesUsed / 4);
    const order = kit.mem.bytes!(b.order, 4 * n * K);
    const ord = new Int32Array(order.buffer, order.byteOffset, n * K);
    for (let j = 0; j < n * K; j++) {
      const t = (ord[j] / K) | 0;
      rows.set(heap.subarray(x / 4 + t * h, x / 4 + (t + 1) * h), j * h);
    }
    const count = new Int32Array(this.o.ranks);
    for (let e = 0; e < E; e++) {
      const start = offsets[e],
        c = offsets[e + 1] - start,
        reps = p.replicas[e];
      for (let i = 0; i < reps.length && c > 0; i++) {
        const s = start + Math.floor((i * c) / reps.length),
          end = start + Math.floor(((i + 1) * c) / reps.length);
        if (end === s) continue;
        const r = reps[i],
          at = (r * this.layout.maxTasks + count[r]++) * TASK_INTS;
        tasks[at] = e;
        tasks[at + 1] = s;
        tasks[at + 2] = end - s;
      }
    }
    ctl[CTL.layer] = layer;
    const waiting: [number, number][] = [];
    for (let r = 0; r < this.o.ranks; r++) {
      if (count[r] === 0) continue;
      const cell = rankCells(r);
      ctl[cell.tasks] = count[r];
      waiting.push([cell.done, Atomics.add(ctl, cell.go, 1) + 1]);
      Atomics.notify(ctl, cell.go);
    }
    call.shared?.(); // overlaps the ranks' work
    for (const [done, gen] of waiting) {
      while (Atomics.load(ctl, done) !== gen)
        if (Atomics.wait(ctl, done, Atomics.load(ctl, done), RANK_TIMEOUT_MS) === 'timed-out')
          throw new Error('an EP rank did not answer');
    }
    if (Atomics.load(ctl, CTL.error))
      throw new Error(`EP rank failed: ${this.failure ?? 'unknown'}`);
    heap = kit.mem.f32(0, kit.mem.bytesUsed / 4);
    for (let e = 0; e < E; e++) {
      const start = offsets[e],
        c = offsets[e + 1] - start;
      if (c === 0) continue;
      heap.set(rows.subarray(start * h, (start + c) * h), b.xs / 4);
      kit.ds.moeScatterAdd(out, b.xs, b.order, b.weight, start, c, K, h);
    }
  }

  async close(): Promise<void> {
    for (let r = 0; r < this.o.ranks; r++) {
      Atomics.store(this.v.ctl, rankCells(r).go, -1);
      Atomics.notify(this.v.ctl, rankCells(r).go);
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
