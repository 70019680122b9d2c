// How each op of KernelOps is exercised: its buffers, its call, its float64 reference and its cost, as
// OpSpecs of the one table (case.ts). Backend-agnostic: a spec only speaks KernelOps and byte pointers.
import type { KernelOps } from '../../kernels-wasm/types';
import { uniform, type Family, type OpSpec } from './case';
import { gpuMatmul, gpuMatmulLacks, gpuRmsnorm, gpuSwiglu } from './gpu-f32';
import * as ref from './reference';

export type OpName = keyof KernelOps;

export interface Shapes {
  matvec: { rows: number; cols: number };
  matmul: { rows: number; cols: number; n: number };
  rmsnorm: { n: number; eps: number };
  rope: { nHeads: number; nKvHeads: number; headDim: number; pos: number; theta: number };
  softmax: { n: number; scale: number };
  swiglu: { n: number };
  add: { n: number };
  attention: ref.AttentionShape;
}

/** An input buffer, filled with seeded uniform values in [lo, hi). */
interface InputSpec {
  name: string;
  len: number;
  lo: number;
  hi: number;
}

/** A KernelOps op in brief: buffers by name (an output named like an input is written in place). */
interface KernelOpDef<S> {
  inputs(s: S): InputSpec[];
  outputs(s: S): { name: string; len: number }[];
  invoke(ops: KernelOps, p: Record<string, number>, s: S): void;
  reference(inp: Record<string, Float32Array>, s: S): Record<string, Float64Array>;
  cost(s: S): { flops: number; bytes: number };
  gpu?: OpSpec<KernelOps, S, Host>['gpu'];
  gpuLacks?(s: S): string | null;
}

type Host = Record<string, Float32Array>;

export const kernelFamily: Family<KernelOps> = {
  name: 'f32',
  of: (b) => ({ main: b, scalar: b.scalar }),
};

function kernelSpec<S>(d: KernelOpDef<S>): OpSpec<KernelOps, S, Host> {
  return {
    family: kernelFamily,
    setup: (s, rand) =>
      Object.fromEntries(d.inputs(s).map((i) => [i.name, uniform(rand, i.len, i.lo, i.hi)])),
    checks: (h, s) =>
      Object.entries(d.reference(h, s)).map(([output, want]) => ({
        output,
        label: 'vs float64 reference',
        want,
      })),
    cost: d.cost,
    place(b, h, s) {
      const ptrs: Record<string, number> = {};
      for (const [name, data] of Object.entries(h)) ptrs[name] = b.alloc(data.length);
      const outputs = Object.fromEntries(d.outputs(s).map((o) => [o.name, o.len]));
      for (const [name, len] of Object.entries(outputs)) ptrs[name] ??= b.alloc(len);
      const reset = () => {
        for (const [name, data] of Object.entries(h)) b.write(ptrs[name], data);
      };
      return { ptrs, outputs, reset };
    },
    invoke: d.invoke,
    gpu: d.gpu,
    gpuLacks: d.gpuLacks,
  };
}

const u = (name: string, len: number, lo = -1, hi = 1): InputSpec => ({ name, len, lo, hi });

const defs: { [K in OpName]: KernelOpDef<Shapes[K]> } = {
  matvec: {
    inputs: (s) => [u('w', s.rows * s.cols), u('x', s.cols)],
    outputs: (s) => [{ name: 'out', len: s.rows }],
    invoke: (o, p, s) => o.matvec(p.out, p.w, p.x, s.rows, s.cols),
    reference: (i, s) => ({ out: ref.refMatvec(i.w, i.x, s.rows, s.cols) }),
    gpu: gpuMatmul,
    gpuLacks: gpuMatmulLacks,
    cost: (s) => ({ flops: 2 * s.rows * s.cols, bytes: 4 * (s.rows * s.cols + s.cols + s.rows) }),
  },
  matmul: {
    inputs: (s) => [u('w', s.rows * s.cols), u('x', s.n * s.cols)],
    outputs: (s) => [{ name: 'out', len: s.n * s.rows }],
    invoke: (o, p, s) => o.matmul(p.out, p.w, p.x, s.rows, s.cols, s.n),
    reference: (i, s) => ({ out: ref.refMatmul(i.w, i.x, s.rows, s.cols, s.n) }),
    gpu: gpuMatmul,
    gpuLacks: gpuMatmulLacks,
    cost: (s) => ({
      flops: 2 * s.n * s.rows * s.cols,
      bytes: 4 * (s.rows * s.cols + s.n * (s.cols + s.rows)),
    }),
  },
  rmsnorm: {
    inputs: (s) => [u('x', s.n, -2, 2), u('weight', s.n)],
    outputs: (s) => [{ name: 'out', len: s.n }],
    invoke: (o, p, s) => o.rmsnorm(p.out, p.x, p.weight, s.n, s.eps),
    reference: (i, s) => ({ out: ref.refRmsnorm(i.x, i.weight, s.n, s.eps) }),
    gpu: gpuRmsnorm,
    cost: (s) => ({ flops: 4 * s.n, bytes: 12 * s.n }),
  },
  rope: {
    inputs: (s) => [u('q', s.nHeads * s.headDim), u('k', s.nKvHeads * s.headDim)],
    outputs: (s) => [
      { name: 'q', len: s.nHeads * s.headDim },
      { name: 'k', len: s.nKvHeads * s.headDim },
    ],
    invoke: (o, p, s) => o.rope(p.q, p.k, s.nHeads, s.nKvHeads, s.headDim, s.pos, s.theta),
    reference: (i, s) => ({
      q: ref.refRope(i.q, s.nHeads, s.headDim, s.pos, s.theta),
      k: ref.refRope(i.k, s.nKvHeads, s.headDim, s.pos, s.theta),
    }),
    cost: (s) => ({
      flops: 3 * (s.nHeads + s.nKvHeads) * s.headDim,
      bytes: 8 * (s.nHeads + s.nKvHeads) * s.headDim,
    }),
  },
  softmax: {
    inputs: (s) => [u('x', s.n, -s.scale, s.scale)],
    outputs: (s) => [{ name: 'x', len: s.n }],
    invoke: (o, p, s) => o.softmax(p.x, s.n),
    reference: (i, s) => ({ x: ref.refSoftmax(i.x, s.n) }),
    cost: (s) => ({ flops: 4 * s.n, bytes: 8 * s.n }),
  },
  swiglu: {
    inputs: (s) => [u('a', s.n, -8, 8), u('b', s.n)],
    outputs: (s) => [{ name: 'a', len: s.n }],
    invoke: (o, p, s) => o.swiglu(p.a, p.b, s.n),
    reference: (i, s) => ({ a: ref.refSwiglu(i.a, i.b, s.n) }),
    gpu: gpuSwiglu,
    cost: (s) => ({ flops: 5 * s.n, bytes: 12 * s.n }),
  },
  add: {
    inputs: (s) => [u('a', s.n), u('b', s.n)],
    outputs: (s) => [{ name: 'a', len: s.n }],
    invoke: (o, p, s) => o.add(p.a, p.b, s.n),
    reference: (i, s) => ({ a: ref.refAdd(i.a, i.b, s.n) }),
    cost: (s) => ({ flops: s.n, bytes: 12 * s.n }),
  },
  attention: {
    inputs: (s) => {
      const kv = s.nPos * s.nKvHeads * s.headDim;
      return [u('q', s.nHeads * s.headDim, -2, 2), u('k', kv, -2, 2), u('v', kv)];
    },
    outputs: (s) => [
      { name: 'out', len: s.nHeads * s.headDim },
      { name: 'att', len: s.nHeads * s.nPos },
    ],
    invoke: (o, p, s) =>
      o.attention(p.out, p.q, p.k, p.v, p.att, s.nHeads, s.nKvHeads, s.headDim, s.nPos),
    reference: (i, s) => ({ out: ref.refAttention(i.q, i.k, i.v, s) }),
    cost: (s) => ({
      flops: 4 * s.nHeads * s.nPos * s.headDim + 5 * s.nHeads * s.nPos,
      bytes:
        4 *
        (2 * s.nPos * s.nKvHeads * s.headDim + 2 * s.nHeads * s.headDim + 2 * s.nHeads * s.nPos),
    }),
  },
};

export const specs = Object.fromEntries(
  Object.entries(defs).map(([op, d]) => [op, kernelSpec(d as KernelOpDef<never>)]),
) as { [K in OpName]: OpSpec<KernelOps, Shapes[K], Host> };
