// The GPU conformance table: every WGSL kernel against the engine/deepseek reference (tests) and the same
// cases timed by bench/gpu.ts.
import { fp8Cases } from './cases/fp8';
import { mlaCases } from './cases/mla';
import { moeCases } from './cases/moe';
import { rowCases } from './cases/rows';
import type { GpuCase } from './cases/types';

export type { GpuCase } from './cases/types';

export const gpuCases: GpuCase[] = [...fp8Cases, ...rowCases, ...moeCases, ...mlaCases];
