// One expert-parallel rank (a worker thread: the stand-in for one GPU of DeepEP's all-to-all). It holds
// its own kernels-wasm instance with only the experts of its slots; per MoE layer and step it waits for
// its `go` cell, runs each task (one expert over a run of rows, in place) and sets `done`. A new placement
// arrives as a message: the rank places it into a fresh instance and keeps the old one until the main
// thread dispatches with the new version, so no step ever meets half-loaded weights.
import { parentPort, workerData } from 'node:worker_threads';
import { createWasmKernels } from '../../kernels-wasm/index';
import { deepSeekKit, type DeepSeekKit } from '../../engine/deepseek/wasm-linear';
import {
  createMoeBuffers,
  wasmMlpForward,
  type MoeBuffers,
  type MoeDims,
} from '../../engine/deepseek/wasm-moe';
import type { WasmMlp } from '../../engine/deepseek/wasm-weights';
import { CTL, epViews, rankCells, TASK_INTS, type EpLayout } from './ep-layout';
import { placeMlp, type MlpBytes } from './expert-weights';

export interface EpWorkerData {
  module: WebAssembly.Module;
  sab: SharedArrayBuffer;
  layout: EpLayout;
  rank: number;
}

/** A placement's experts for this rank: key layerSlot · E + expert. */
export interface LoadMessage {
  type: 'load';
  version: number;
  dims: MoeDims;
  maxBatch: number;
  experts: { key: number; mlp: MlpBytes }[];
}

interface Instance {
  kit: DeepSeekKit;
  heap: () => Float32Array;
  bufs: MoeBuffers;
  experts: Map<number, WasmMlp>;
}

const data = workerData as EpWorkerData;
const { ctl, tasks, rows } = epViews(data.sab, data.layout);
const cells = rankCells(data.rank);
const hidden = data.layout.hidden;
const instances = new Map<number, Instance>();

/** Atomics.waitAsync (Node ≥ 16; the project's TypeScript lib predates it): waits without blocking messages. */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      a: Int32Array,
      i: number,
      v: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

async function load(m: LoadMessage): Promise<void> {
  const mem = await createWasmKernels(data.module);
  const kit = deepSeekKit(mem);
  const experts = new Map(m.experts.map(({ key, mlp }) => [key, placeMlp(mem, mlp)]));
  const widest = Math.max(m.dims.inter, m.dims.hidden);
  const bufs = createMoeBuffers(mem, m.dims, m.maxBatch, mem.alloc(4 * widest));
  const heap = () => mem.f32(0, mem.bytesUsed / 4);
  instances.set(m.version, { kit, heap, bufs, experts });
}

/** Runs this rank's tasks of the current dispatch, rows in place. */
function run(): void {
  const version = ctl[CTL.version];
  for (const v of instances.keys()) if (v < version) instances.delete(v);
  const inst = instances.get(version);
  if (!inst) throw new Error(`rank ${data.rank}: no weights for placement ${version}`);
  const layer = ctl[CTL.layer],
    E = data.layout.experts,
    n = ctl[cells.tasks],
    base = data.rank * data.layout.maxTasks * TASK_INTS;
  const { kit, bufs } = inst;
  for (let i = 0; i < n; i++) {
    const [e, start, count] = tasks.subarray(base + i * TASK_INTS, base + (i + 1) * TASK_INTS);
    const mlp = inst.experts.get(layer * E + e);
    if (!mlp)
      throw new Error(`rank ${data.rank}: expert ${e} of layer slot ${layer} not placed here`);
    const heap = inst.heap();
    heap.set(rows.subarray(start * hidden, (start + count) * hidden), bufs.xs / 4);
    wasmMlpForward(kit, bufs.ys, bufs.xs, count, mlp, bufs);
    rows.set(heap.subarray(bufs.ys / 4, bufs.ys / 4 + count * hidden), start * hidden);
  }
}

async function serve(): Promise<void> {
  let seen = Atomics.load(ctl, cells.go);
  for (;;) {
    const w = waitAsync(ctl, cells.go, seen);
    if (w.async) await w.value;
    seen = Atomics.load(ctl, cells.go);
    if (seen < 0) return; // shut down
    try {
      run();
    } catch (err) {
      Atomics.store(ctl, CTL.error, 1);
      parentPort!.postMessage({
        type: 'error',
        message: err instanceof Error ? err.message : String(err),
      });
    }
    Atomics.store(ctl, cells.done, seen);
    Atomics.notify(ctl, cells.done);
  }
}

parentPort!.on('message', (m: LoadMessage) => {
  load(m).then(
    () => parentPort!.postMessage({ type: 'ready', version: m.version }),
    (err: unknown) => parentPort!.postMessage({ type: 'error', message: String(err) }),
  );
});
void serve();
