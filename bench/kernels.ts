// Kernel benchmark: the conformance table's `bench` cases (matvec, matmul) on every backend,
// reported as GFLOP/s, GB/s and speedups as a markdown table. Run alone: tsx bench/kernels.ts
import { pathToFileURL } from 'node:url';
import { backends, probe, type BackendEntry } from '../tests/ops/backends';
import { cases, type OpCase } from '../tests/ops/cases';
import { caseInputs, prepareCase } from '../tests/ops/harness';
import type { OpName } from '../tests/ops/specs';

export interface BenchOptions {
  ops?: OpName[];
  /** Time per measured batch; the median of `batches` batches is reported. */
  batchMs?: number;
  batches?: number;
}

/** Seconds per call: calibrate a batch to about batchMs, then the median of several batches. */
async function timeCase(entry: BackendEntry, c: OpCase, batchMs: number, batches: number): Promise<number> {
  const backend = await entry.create();
  const prepared = prepareCase(backend, c, caseInputs(c));
  const ops = entry.ops(backend);
  prepared.run(ops); // warm-up: tier-up, page faults
  let iters = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) prepared.invoke(ops);
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
    for (let i = 0; i < iters; i++) prepared.invoke(ops);
    times.push((performance.now() - t0) / iters / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

const fmt = (v: number, digits = 2) => (Number.isFinite(v) ? v.toFixed(digits) : '–');

export async function benchKernels(opts: BenchOptions = {}): Promise<string> {
  const { ops = ['matvec', 'matmul'], batchMs = 200, batches = 5 } = opts;
  const live: BackendEntry[] = [];
  const notes: string[] = [];
  for (const entry of backends) {
    const reason = await probe(entry);
    if (reason) notes.push(`- ${entry.name} skipped: ${reason}`);
    else live.push(entry);
  }
  const names = live.map((e) => e.name);
  const first = names[0];
  const lines = [
    `| case | MFLOP | MB | ${names.map((n) => `${n} GFLOP/s | ${n} GB/s`).join(' | ')} | ${names.slice(1).map((n) => `${first} / ${n}`).join(' | ')} |`,
    `| --- | ---: | ---: | ${names.map(() => '---: | ---:').join(' | ')} | ${names.slice(1).map(() => '---:').join(' | ')} |`,
  ];
  for (const c of cases.filter((k) => k.bench && ops.includes(k.op))) {
    const secs: number[] = [];
    for (const entry of live) secs.push(await timeCase(entry, c, batchMs, batches));
    const cells = secs.map((s) => `${fmt(c.flops / s / 1e9)} | ${fmt(c.bytes / s / 1e9)}`);
    const ratios = secs.slice(1).map((s) => `${fmt(s / secs[0], 1)}×`);
    lines.push(`| ${c.name} | ${fmt(c.flops / 1e6, 1)} | ${fmt(c.bytes / 1e6, 1)} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
  }
  return [...lines, ...notes].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(await benchKernels());
}
