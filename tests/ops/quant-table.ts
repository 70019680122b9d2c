// The conformance table's extension for op families beyond KernelOps (quantized matmuls, DeepSeek ops):
// same idea as cases.ts/specs.ts/harness.ts — shapes, seeded inputs, float64 references with NMSE
// tolerances, FLOPs/bytes — but inputs may be bytes (codes, i32 indices), and an op may be checked against
// several references (e.g. the dequantized math, and the kernel's own integer math).
import type { KernelBackend } from '../../kernels-wasm/types';
import type { BackendEntry } from './backends';
import { prng } from './harness';
import { nmse } from './nmse';

export interface ExtCheck {
  output: string;
  label: string;
  want: Float64Array;
  /** Largest allowed NMSE of the output vs want. */
  nmse: number;
}

export interface Placed {
  ptrs: Record<string, number>;
  /** f32 outputs by name, with their lengths. */
  outputs: Record<string, number>;
  /** Rewrites every input (in-place ops change theirs). */
  reset(): void;
  /** Outputs that need more than an f32 copy (e.g. i32 indices turned into a dense vector); default: `outputs`. */
  read?(): Record<string, Float32Array>;
}

export interface ExtSpec<Ops, S, H> {
  setup(s: S, rand: () => number): H;
  checks(h: H, s: S): ExtCheck[];
  place(b: KernelBackend, h: H, s: S): Placed;
  invoke(ops: Ops, p: Record<string, number>, s: S): void;
  cost(s: S): { flops: number; bytes: number };
}

export interface ExtCase<Ops> {
  op: string;
  name: string;
  /** Largest allowed NMSE between the SIMD kernel and its scalar twin. */
  twinNmse: number;
  flops: number;
  bytes: number;
  bench: boolean;
  /** Seeded host inputs (quantized weights included); place them in as many backends or copies as wanted. */
  host(seed?: number): ExtHost<Ops>;
}

export interface ExtHost<Ops> {
  /** The float64 references (computed on demand: large cases are only benchmarked). */
  checks(): ExtCheck[];
  place(b: KernelBackend): ExtPrepared<Ops>;
}

export interface ExtPrepared<Ops> {
  /** Rewrites the inputs, runs the op, returns copies of the outputs. */
  run(ops: Ops): Record<string, Float32Array>;
  /** Runs the op only (benchmarks). */
  invoke(ops: Ops): void;
}

export function extCase<Ops, S extends object, H>(
  op: string,
  spec: ExtSpec<Ops, S, H>,
  shape: S,
  twinNmse: number,
  bench = false,
): ExtCase<Ops> {
  const { flops, bytes } = spec.cost(shape);
  const dims = Object.entries(shape)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return {
    op,
    name: `${op} ${dims}`,
    twinNmse,
    flops,
    bytes,
    bench,
    host(seed = 1) {
      const host = spec.setup(shape, prng(seed));
      return {
        checks: () => spec.checks(host, shape),
        place(b) {
          const placed = spec.place(b, host, shape);
          return {
            run(ops) {
              placed.reset();
              spec.invoke(ops, placed.ptrs, shape);
              if (placed.read) return placed.read();
              return Object.fromEntries(
                Object.entries(placed.outputs).map(([n, len]) => [
                  n,
                  b.f32(placed.ptrs[n], len).slice(),
                ]),
              );
            },
            invoke: (ops) => spec.invoke(ops, placed.ptrs, shape),
          };
        },
      };
    },
  };
}

/** An op family's SIMD set and scalar twins on a backend (undefined: the backend lacks the family). */
export interface OpFamily<Ops> {
  name: string;
  of(b: KernelBackend): { main: Ops; scalar: Ops } | undefined;
}

/** Which set a backend entry measures: its scalar twins when the entry measures `backend.scalar`. */
export function familyOps<Ops>(
  family: OpFamily<Ops>,
  entry: BackendEntry,
  b: KernelBackend,
): Ops | null {
  const set = family.of(b);
  if (!set) return null;
  return entry.ops(b) === b.scalar ? set.scalar : set.main;
}

/** Runs a case's checks on one op set; returns failures as readable lines (empty: pass). */
export function checkCase<Ops>(
  checks: ExtCheck[],
  prepared: ExtPrepared<Ops>,
  ops: Ops,
): { failures: string[]; got: Record<string, Float32Array>; errors: Record<string, number> } {
  const got = prepared.run(ops);
  const failures: string[] = [],
    errors: Record<string, number> = {};
  for (const c of checks) {
    const g = got[c.output];
    if (!g.every(Number.isFinite)) failures.push(`${c.output}: not finite`);
    const e = nmse(g, c.want);
    errors[`${c.output} ${c.label}`] = e;
    if (!(e <= c.nmse))
      failures.push(`${c.output} NMSE ${c.label}: ${e.toExponential(2)} > ${c.nmse}`);
  }
  return { failures, got, errors };
}

/** Uniform [lo, hi) f32 values. */
export function uniform(rand: () => number, n: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());
}

/** Copies f32 data into a fresh allocation. */
export function placeF32(b: KernelBackend, data: Float32Array): number {
  const p = b.alloc(data.length);
  b.write(p, data);
  return p;
}

/** Copies bytes into a fresh allocation (the WASM backend's byte views). */
export function placeBytes(b: KernelBackend, data: Uint8Array | Int32Array | Uint16Array): number {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const p = b.alloc(Math.ceil(bytes.byteLength / 4));
  b.bytes!(p, bytes.byteLength).set(bytes);
  return p;
}
