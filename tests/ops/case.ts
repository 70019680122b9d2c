// The conformance table's row type and spec type (ggml test-backend-ops): one Case per op and shape, one
// OpSpec per op. A spec draws seeded random inputs, states its float64 references, and says how each
// backend kind runs the op: `place`/`invoke` on a KernelBackend's op set (wasm-simd, wasm-scalar, ts,
// wasm-relaxed), `gpu` on a WebGPU device. A backend whose kind a spec lacks skips the case, saying why.
// Plain code, no Node imports: the Worker tests import it too.
import type { Gpu } from '../../kernels-gpu/device';
import type { KernelBackend } from '../../kernels-wasm/types';
import { mulberry32 as prng } from '../../engine/llama/synthetic';
export { nmse } from './nmse';

export { prng };

export type ShapeValue = number | string | boolean;

/** One output compared with one float64 reference. */
export interface Check {
  output: string;
  label: string;
  want: ArrayLike<number>;
  /** Largest allowed NMSE vs want; default: the case's `nmse`. */
  nmse?: number;
}

/** A case's inputs laid out in a KernelBackend's memory. */
export interface Placed {
  ptrs: Record<string, number>;
  /** f32 outputs by name, with their lengths. */
  outputs: Record<string, number>;
  /** Rewrites every input (in-place ops change theirs). */
  reset(): void;
  /** Outputs that need more than an f32 copy (e.g. i32 indices turned into a dense vector). */
  read?(): Record<string, Float32Array>;
}

/** A case recorded on a WebGPU device: inputs uploaded once, `encode` records the dispatches. */
export interface GpuPrepared {
  encode(pass: GPUComputePassEncoder): void;
  read(): Promise<Record<string, ArrayLike<number>>>;
}

/**
 * How one op is exercised. `Ops` is the op set `invoke` calls (KernelOps, QuantOps, DeepSeekKit); the
 * backend picks it through `family`. A spec without `place`/`invoke` has no CPU kernel; without `gpu`, no
 * WebGPU kernel.
 */
export interface OpSpec<Ops, S, H> {
  /** Seeded random host inputs (never all zeros), quantized weights included. */
  setup(s: S, rand: () => number): H;
  /** The float64 references (computed on demand: large cases are only benchmarked). */
  checks(h: H, s: S): Check[];
  cost(s: S): { flops: number; bytes: number };
  family?: Family<Ops>;
  place?(b: KernelBackend, h: H, s: S): Placed;
  invoke?(ops: Ops, p: Record<string, number>, s: S): void;
  gpu?(gpu: Gpu, h: H, s: S): Promise<GpuPrepared>;
  /** Shapes the WGSL kernel does not take (e.g. alignment): why, or null. */
  gpuLacks?(s: S): string | null;
}

/** An op family of a KernelBackend: its fast set and its scalar twins (undefined: the backend lacks it). */
export interface Family<Ops> {
  name: string;
  of(b: KernelBackend): { main: Ops; scalar: Ops } | undefined;
}

/** One row of the table. */
export interface Case {
  op: string;
  name: string;
  shape: Record<string, ShapeValue>;
  /** Largest allowed NMSE vs the float64 reference, for the checks that state none of their own. */
  nmse: number;
  /** Largest allowed NMSE between a fast kernel and its scalar twin. */
  twinNmse: number;
  flops: number;
  bytes: number;
  /** Run by the conformance tests (false: timed only, too slow for lavapipe). */
  test: boolean;
  /** Timed by the benchmarks (bench/kernels.ts, bench/gpu.ts). */
  bench: boolean;
  /** The seed of the case's inputs. */
  seed: number;
  spec: OpSpec<unknown, object, unknown>;
}

export interface CaseOptions {
  /** NMSE vs the scalar twin; default: `nmse`. */
  twin?: number;
  bench?: boolean;
  test?: boolean;
  seed?: number;
}

export function shapeName(op: string, shape: object): string {
  const dims = Object.entries(shape).map(([k, v]) => `${k}=${String(v)}`);
  return [op, ...dims].join(' ');
}

/** A row: `nmse` bounds the checks that state no tolerance (and the scalar twin unless `opts.twin`). */
export function opCase<Ops, S extends object, H>(
  op: string,
  spec: OpSpec<Ops, S, H>,
  shape: S,
  nmse: number,
  opts: CaseOptions | boolean = {},
): Case {
  const o = typeof opts === 'boolean' ? { bench: opts } : opts;
  return {
    op,
    name: shapeName(op, shape),
    shape: shape as Record<string, ShapeValue>,
    nmse,
    twinNmse: o.twin ?? nmse,
    ...spec.cost(shape),
    test: o.test ?? true,
    bench: o.bench ?? false,
    seed: o.seed ?? 1,
    spec: spec as unknown as Case['spec'],
  };
}

/** A case's seeded host inputs. */
export function caseHost(c: Case): unknown {
  return c.spec.setup(c.shape, prng(c.seed));
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
