// Runs one op case on one backend: seeded inputs, the call, outputs copied out; plus NMSE.
import type { KernelBackend, KernelOps } from '../../kernels-wasm/types';
import { specs, type OpName, type OpSpec } from './specs';
import type { OpCase } from './cases';

/** mulberry32 (engine/llama/synthetic.ts): a tiny seeded PRNG, so every run and every backend sees the same inputs. */
import { mulberry32 as prng } from '../../engine/llama/synthetic';

export { prng };

function specOf(c: OpCase): OpSpec<unknown> {
  return specs[c.op as OpName] as OpSpec<unknown>;
}

/** Seeded host inputs of a case (no zeros: uniform values never land on exactly 0 in practice). */
export function caseInputs(c: OpCase, seed = 1): Record<string, Float32Array> {
  const rand = prng(seed);
  const inputs: Record<string, Float32Array> = {};
  for (const b of specOf(c).inputs(c.shape)) {
    inputs[b.name] = Float32Array.from({ length: b.len }, () => b.lo + (b.hi - b.lo) * rand());
  }
  return inputs;
}

export function caseReference(
  c: OpCase,
  inputs: Record<string, Float32Array>,
): Record<string, Float64Array> {
  return specOf(c).reference(inputs, c.shape);
}

/** A case laid out in one backend's memory: call `run` as often as wanted (it rewrites the inputs first). */
export interface PreparedCase {
  /** Writes the inputs, runs the op, returns copies of the outputs. */
  run(ops: KernelOps): Record<string, Float32Array>;
  /** Runs the op only (for benchmarks; in-place ops drift, matvec/matmul do not). */
  invoke(ops: KernelOps): void;
}

export function prepareCase(
  backend: KernelBackend,
  c: OpCase,
  inputs: Record<string, Float32Array>,
): PreparedCase {
  const spec = specOf(c);
  const ptrs: Record<string, number> = {};
  for (const [name, data] of Object.entries(inputs)) ptrs[name] = backend.alloc(data.length);
  const outputs = spec.outputs(c.shape);
  for (const o of outputs) ptrs[o.name] ??= backend.alloc(o.len);
  return {
    run(ops) {
      for (const [name, data] of Object.entries(inputs)) backend.write(ptrs[name], data);
      spec.invoke(ops, ptrs, c.shape);
      return Object.fromEntries(
        outputs.map((o) => [o.name, backend.f32(ptrs[o.name], o.len).slice()]),
      );
    },
    invoke: (ops) => spec.invoke(ops, ptrs, c.shape),
  };
}
