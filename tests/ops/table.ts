// The one conformance table (ggml test-backend-ops): every op case of every kernel backend. The tests run
// each case on each backend that has the op (tests/kernels-wasm/conformance.test.ts for the CPU backends,
// tests/kernels-gpu/conformance.test.ts for WebGPU); bench/kernels.ts and bench/gpu.ts time the `bench` ones.
// Rows by module: f32 KernelOps (cases.ts), quantized matmuls and the relaxed build's edges (quant-cases.ts),
// batched decode (matvecs-cases.ts), the int8 KV cache (kv8-cases.ts), DeepSeek ops on the CPU (deepseek-cases.ts), WGSL kernels (tests/kernels-gpu/cases/).
import { fp8Cases } from '../kernels-gpu/cases/fp8';
import { mlaCases } from '../kernels-gpu/cases/mla';
import { moeCases } from '../kernels-gpu/cases/moe';
import { rowCases } from '../kernels-gpu/cases/rows';
import type { Case } from './case';
import { f32Cases } from './cases';
import { deepSeekCases } from './deepseek-cases';
import { kv8Cases } from './kv8-cases';
import { matvecsCases } from './matvecs-cases';
import { quantCases } from './quant-cases';

export const gpuCases: Case[] = [...fp8Cases, ...rowCases, ...moeCases, ...mlaCases];

export const table: Case[] = [
  ...f32Cases,
  ...quantCases,
  ...matvecsCases,
  ...kv8Cases,
  ...deepSeekCases,
  ...gpuCases,
];

/** The registry: one spec per op (a second spec under one op name is a mistake the tests catch). */
export function opSpecs(cases: Case[] = table): Map<string, Case['spec']> {
  const specs = new Map<string, Case['spec']>();
  for (const c of cases) {
    const seen = specs.get(c.op);
    if (seen && seen !== c.spec) throw new Error(`op ${c.op} has two specs`);
    specs.set(c.op, c.spec);
  }
  return specs;
}
