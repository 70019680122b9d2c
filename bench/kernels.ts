// Kernel benchmark: the one table's `bench` cases (tests/ops/table.ts; by default the f32 matvec, matmul,
// attention) on every CPU backend, reported as GFLOP/s, GB/s and speedups as a markdown table; a backend
// that lacks an op gets '–'. Run alone: tsx bench/kernels.ts
// "hot" repeats one call on the same buffers (they stay in cache); "cold" rotates over enough copies
// (> 64 MiB) that every call reads from DRAM, as a forward pass does with a model's weights.
import { pathToFileURL } from 'node:url';
import { cpuBackends, probe } from '../tests/ops/backends';
import { caseHost, type Case } from '../tests/ops/case';
import { cpuOps, prepareCpu, type BackendEntry } from '../tests/ops/runner';
import { table } from '../tests/ops/table';

export interface BenchOptions {
  /** Ops of the table to time (their `bench` cases). */
  ops?: string[];
  /** Time per measured batch; the fastest of `batches` batches is reported (least disturbed by neighbours). */
  batchMs?: number;
  batches?: number;
  /** Cache modes to run; default both. */
  modes?: Mode[];
}

type Mode = 'hot' | 'cold';
const COLD_BYTES = 64 * 2 ** 20;

/** Seconds per call: calibrate a batch to about batchMs, then the fastest of several batches (NaN: the
 *  backend lacks the op). */
async function timeCase(
  entry: BackendEntry,
  c: Case,
  mode: Mode,
  batchMs: number,
  batches: number,
): Promise<number> {
  const { create, set: which } = entry.kernels!;
  const backend = await create();
  const set = cpuOps(c, backend);
  if (typeof set === 'string') return NaN;
  const ops = which === 'main' ? set.main : set.scalar;
  const host = caseHost(c);
  const copies = mode === 'cold' ? Math.ceil(COLD_BYTES / c.bytes) : 1;
  const prepared = Array.from({ length: copies }, () => prepareCpu(backend, c, host));
  for (const p of prepared) p.run(ops); // warm-up: tier-up, page faults
  const call = (i: number) => prepared[i % copies].invoke(ops);
  let iters = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) call(i);
    const ms = performance.now() - t0;
    if (ms >= batchMs / 4 || iters >= 1 << 20) {
      iters = Math.max(1, Math.round((iters * batchMs) / Math.max(ms, 1e-3)));
      break;
    }
    iters *= 4;
  }
  const times: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) call(i);
    times.push((performance.now() - t0) / iters / 1000);
  }
  return Math.min(...times);
}

const fmt = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : '–');

export async function benchKernels(opts: BenchOptions = {}): Promise<string> {
  const {
    ops = ['matvec', 'matmul', 'attention'],
    batchMs = 200,
    batches = 5,
    modes = ['hot', 'cold'],
  } = opts;
  const live: BackendEntry[] = [];
  const notes: string[] = [];
  for (const entry of cpuBackends) {
    const reason = await probe(entry);
    if (reason) notes.push(`- ${entry.name} skipped: ${reason}`);
    else live.push(entry);
  }
  const names = live.map((e) => e.name);
  const first = names[0];
  const lines = [
    `| case | cache | MFLOP | MB | ${names.map((n) => `${n} GFLOP/s | ${n} GB/s`).join(' | ')} | ${names
      .slice(1)
      .map((n) => `${first} / ${n}`)
      .join(' | ')} |`,
    `| --- | --- | ---: | ---: | ${names.map(() => '---: | ---:').join(' | ')} | ${names
      .slice(1)
      .map(() => '---:')
      .join(' | ')} |`,
  ];
  for (const c of table.filter((k) => k.bench && k.spec.place && ops.includes(k.op))) {
    for (const mode of modes) {
      const secs: number[] = [];
      for (const entry of live) secs.push(await timeCase(entry, c, mode, batchMs, batches));
      const cells = secs.map((s) => `${fmt(c.flops / s / 1e9)} | ${fmt(c.bytes / s / 1e9)}`);
      const ratios = secs.slice(1).map((s) => `${fmt(s / secs[0], 1)}×`);
      const size = `${fmt(c.flops / 1e6, 1)} | ${fmt(c.bytes / 1e6, 1)}`;
      lines.push(
        `| ${c.name} | ${mode} | ${size} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`,
      );
    }
  }
  return [...lines, ...notes].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await benchKernels());
}
