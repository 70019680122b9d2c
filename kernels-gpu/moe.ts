// Host wrappers of the DeepSeekMoE kernels: the router (moe-route), the permutation of token→expert
// assignments into expert-sorted rows (moe-permute) and the weighted scatter-add of expert outputs back
// into the residual stream (moe-scatter-add). The grouped expert GEMM between them is in fp8.ts.
import type { GateOptions } from '../engine/deepseek/moe';
import type { Gpu } from './device';
import { check, checkSize, grid, KernelCall, pipeline, type GpuOp } from './kernel';

export const MAX_ROUTED_EXPERTS = 256;
export const MAX_EXPERT_GROUPS = 64;

const methods = { noaux_tc: 0, group_limited_greedy: 1, greedy: 2 } as const;

/** logits[rows, E] (+ bias[E]) → idx[rows, topK] (u32), weight[rows, topK]. */
export async function moeRoute(
  gpu: Gpu,
  b: { logits: GPUBuffer; bias: GPUBuffer | null; idx: GPUBuffer; weight: GPUBuffer },
  s: { experts: number; gate: GateOptions; maxRows: number },
): Promise<GpuOp> {
  const op = 'moeRoute',
    E = s.experts,
    g = s.gate;
  check(E <= MAX_ROUTED_EXPERTS, op, `at most ${MAX_ROUTED_EXPERTS} routed experts, got ${E}`);
  check(
    g.nGroup <= MAX_EXPERT_GROUPS && E % g.nGroup === 0,
    op,
    `n_group ${g.nGroup} must divide ${E} and be ≤ ${MAX_EXPERT_GROUPS}`,
  );
  check(
    g.topkGroup <= g.nGroup && g.topK <= E,
    op,
    `topk_group ${g.topkGroup} ≤ n_group and top-k ${g.topK} ≤ experts`,
  );
  checkSize(op, 'logits', b.logits, s.maxRows * E, `[${s.maxRows}, ${E}]`);
  if (b.bias) checkSize(op, 'bias', b.bias, E, `[${E}]`);
  checkSize(op, 'idx', b.idx, s.maxRows * g.topK, `[${s.maxRows}, ${g.topK}] u32`);
  checkSize(op, 'weight', b.weight, s.maxRows * g.topK, `[${s.maxRows}, ${g.topK}]`);
  // Without a bias the kernel never reads binding 2, but a buffer must be bound: the logits serve.
  const call = new KernelCall(
    gpu,
    await pipeline(gpu, 'moe-route'),
    op,
    [b.logits, b.bias ?? b.logits, b.idx, b.weight],
    10,
  );
  const u32s = [
    0,
    E,
    g.nGroup,
    g.topkGroup,
    g.topK,
    methods[g.topkMethod],
    g.scoringFunc === 'softmax' ? 1 : 0,
    g.normTopkProb ? 1 : 0,
    b.bias ? 1 : 0,
  ];
  return (pass, rows) => {
    check(rows >= 1 && rows <= s.maxRows, op, `rows ${rows} outside 1..${s.maxRows}`);
    u32s[0] = rows;
    call.record(pass, u32s, [g.routedScalingFactor], [Math.ceil(rows / 64)]);
  };
}

/** idx[rows, topK] → rowToken[rows·topK], slotRow[rows·topK], offsets[E + 1] (all u32). */
export async function moePermute(
  gpu: Gpu,
  b: { idx: GPUBuffer; rowToken: GPUBuffer; slotRow: GPUBuffer; offsets: GPUBuffer },
  s: { experts: number; topK: number; maxRows: number },
): Promise<GpuOp> {
  const op = 'moePermute',
    n = s.maxRows * s.topK;
  checkSize(op, 'idx', b.idx, n, `[${s.maxRows}, ${s.topK}] u32`);
  checkSize(op, 'rowToken', b.rowToken, n, `[${n}] u32`);
  checkSize(op, 'slotRow', b.slotRow, n, `[${n}] u32`);
  checkSize(op, 'offsets', b.offsets, s.experts + 1, `[${s.experts + 1}] u32`);
  const call = new KernelCall(
    gpu,
    await pipeline(gpu, 'moe-permute'),
    op,
    [b.idx, b.rowToken, b.slotRow, b.offsets],
    3,
  );
  return (pass, rows) => {
    check(rows >= 1 && rows <= s.maxRows, op, `rows ${rows} outside 1..${s.maxRows}`);
    call.record(pass, [rows, s.topK, s.experts], [], [Math.ceil(s.experts / 64)]);
  };
}

/** x[t, :] += Σ_j weight[t, j] · y[slotRow[t·topK + j], :]. */
export async function moeScatterAdd(
  gpu: Gpu,
  b: { x: GPUBuffer; y: GPUBuffer; weight: GPUBuffer; slotRow: GPUBuffer },
  s: { hidden: number; topK: number; maxRows: number },
): Promise<GpuOp> {
  const op = 'moeScatterAdd',
    n = s.maxRows * s.topK;
  checkSize(op, 'x', b.x, s.maxRows * s.hidden, `[${s.maxRows}, ${s.hidden}]`);
  checkSize(op, 'y', b.y, n * s.hidden, `[${n}, ${s.hidden}]`);
  checkSize(op, 'weight', b.weight, n, `[${s.maxRows}, ${s.topK}]`);
  checkSize(op, 'slotRow', b.slotRow, n, `[${n}] u32`);
  const call = new KernelCall(
    gpu,
    await pipeline(gpu, 'moe-scatter-add'),
    op,
    [b.x, b.y, b.weight, b.slotRow],
    3,
  );
  return (pass, rows) => {
    check(rows >= 1 && rows <= s.maxRows, op, `rows ${rows} outside 1..${s.maxRows}`);
    call.record(pass, [rows, s.topK, s.hidden], [], grid(Math.ceil((rows * s.hidden) / 64)));
  };
}
