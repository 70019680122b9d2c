// The one runner of the table: a case's seeded inputs, its run on one backend, NMSE vs the float64
// references and vs the backend's twins (scalar twin: NMSE ≤ twinNmse; a bit twin: identical bits).
// Also the CPU backend kind (any KernelBackend). Plain code, no Node imports: the Worker tests use it.
import type { KernelBackend, KernelOps } from '../../kernels-wasm/types';
import { caseHost, nmse, type Case, type Placed } from './case';

export type Outputs = Record<string, ArrayLike<number>>;

export interface Run {
  outputs: Outputs;
  /** The same case on a reference implementation of the backend: close (NMSE ≤ twinNmse) or exact. */
  twins: { label: string; outputs: Outputs; exact: boolean }[];
}

/** A started backend. */
export interface Backend {
  name: string;
  /** Why this backend cannot run the case (null: it can). */
  lacks(c: Case): string | null;
  run(c: Case, host: unknown): Promise<Run>;
}

/** A backend as listed: `start` throws with a readable reason where it is unavailable. */
export interface BackendEntry {
  name: string;
  start(): Promise<Backend>;
  /** CPU backends: a fresh KernelBackend and the f32 op set this entry measures (hand-written edge tests). */
  kernels?: {
    create(): Promise<KernelBackend>;
    set: 'main' | 'scalar';
    ops(b: KernelBackend): KernelOps;
  };
}

export interface Measure {
  output: string;
  label: string;
  nmse: number;
  tolerance: number;
}

export interface CaseResult {
  measures: Measure[];
  /** Readable failures; empty: the case passes. */
  failures: string[];
}

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const x = new Uint32Array(Float32Array.from(a).buffer),
    y = new Uint32Array(Float32Array.from(b).buffer);
  let diffs = Math.abs(x.length - y.length);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) diffs++;
  return diffs;
}

/** Runs one case on one backend and measures it. */
export async function runCase(backend: Backend, c: Case): Promise<CaseResult> {
  const host = caseHost(c);
  const { outputs, twins } = await backend.run(c, host);
  const measures: Measure[] = [],
    failures: string[] = [];
  const measure = (output: string, label: string, e: number, tolerance: number) => {
    measures.push({ output, label, nmse: e, tolerance });
    if (!(e <= tolerance))
      failures.push(`${output} NMSE ${label}: ${e.toExponential(2)} > ${tolerance}`);
  };
  for (const check of c.spec.checks(host, c.shape)) {
    const got = outputs[check.output];
    if (!got) throw new Error(`${c.name}: no output ${check.output}`);
    if (!Array.from(got).every(Number.isFinite)) failures.push(`${check.output}: not finite`);
    measure(check.output, check.label, nmse(got, check.want), check.nmse ?? c.nmse);
  }
  for (const twin of twins) {
    for (const [name, got] of Object.entries(outputs)) {
      if (!twin.exact) measure(name, `vs ${twin.label}`, nmse(got, twin.outputs[name]), c.twinNmse);
      else if (sameBits(got, twin.outputs[name]) > 0)
        failures.push(
          `${name}: ${sameBits(got, twin.outputs[name])} values differ from ${twin.label}`,
        );
    }
  }
  return { measures, failures };
}

/** A case placed in a KernelBackend's memory: `run` rewrites the inputs, calls, copies the outputs. */
export interface CpuPrepared {
  run(ops: unknown): Record<string, Float32Array>;
  /** Calls the op only (benchmarks; in-place ops drift, matvec/matmul do not). */
  invoke(ops: unknown): void;
}

/** The op sets of a case's family on b, or why b lacks them. */
export function cpuOps(c: Case, b: KernelBackend): { main: unknown; scalar: unknown } | string {
  const { spec } = c;
  if (!spec.place || !spec.invoke) return 'no CPU kernel (a WGSL-only op)';
  if (!spec.family) throw new Error(`${c.op}: a spec with place/invoke must name its family`);
  return spec.family.of(b) ?? `no ${spec.family.name} ops`;
}

export function prepareCpu(b: KernelBackend, c: Case, host: unknown): CpuPrepared {
  const placed: Placed = c.spec.place!(b, host, c.shape);
  const invoke = (ops: unknown) => c.spec.invoke!(ops, placed.ptrs, c.shape);
  return {
    run(ops) {
      placed.reset();
      invoke(ops);
      if (placed.read) return placed.read();
      return Object.fromEntries(
        Object.entries(placed.outputs).map(([n, len]) => [n, b.f32(placed.ptrs[n], len).slice()]),
      );
    },
    invoke,
  };
}

export interface CpuBackendOptions {
  name: string;
  /** A fresh KernelBackend (fresh memory per case); throws with a reason where unavailable. */
  create(): Promise<KernelBackend>;
  /** Which op set it measures: the fast kernels or their scalar twins. */
  set: 'main' | 'scalar';
  /** Also compare with the scalar twins (a SIMD kernel vs its twin, ggml's `_generic`). */
  twin?: boolean;
  /** Also run on this backend and require identical bits (the relaxed-SIMD build vs wasm-simd). */
  bitTwin?: { name: string; create(): Promise<KernelBackend> };
}

export function cpuBackend(o: CpuBackendOptions): BackendEntry {
  return {
    name: o.name,
    kernels: { create: o.create, set: o.set, ops: (b) => (o.set === 'main' ? b : b.scalar) },
    async start() {
      const probe = await o.create();
      const bitProbe = await o.bitTwin?.create();
      const opsOf = (c: Case, b: KernelBackend) => {
        const ops = cpuOps(c, b);
        if (typeof ops === 'string') throw new Error(`${o.name}: ${ops}`);
        return ops;
      };
      return {
        name: o.name,
        lacks(c) {
          const ops = cpuOps(c, probe);
          if (typeof ops === 'string') return ops;
          return bitProbe && typeof cpuOps(c, bitProbe) === 'string'
            ? `${o.bitTwin!.name} lacks ${c.op}`
            : null;
        },
        async run(c, host) {
          const b = await o.create();
          const ops = opsOf(c, b);
          const prepared = prepareCpu(b, c, host);
          const outputs = prepared.run(o.set === 'main' ? ops.main : ops.scalar);
          const twins: Run['twins'] = [];
          if (o.twin)
            twins.push({ label: 'scalar twin', outputs: prepared.run(ops.scalar), exact: false });
          if (o.bitTwin) {
            const bb = await o.bitTwin.create();
            const out = prepareCpu(bb, c, host).run(opsOf(c, bb).main);
            twins.push({ label: o.bitTwin.name, outputs: out, exact: true });
          }
          return { outputs, twins };
        },
      };
    },
  };
}
