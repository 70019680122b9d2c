// Host wrappers of the FP8 kernels: activation quantization (fp8-quantize), the block-scaled GEMV/GEMM
// (fp8-gemv for ≤ 8 tokens, fp8-gemm above), and the grouped expert GEMM (fp8-grouped-gemm).
// Weights stay E4M3 on the GPU: the checkpoint's bytes are uploaded as they are, 4 codes per u32.
import { FP8_BLOCK, type Fp8Weight } from '../engine/formats/fp8';
import type { Gpu } from './device';
import { check, checkSize, grid, KernelCall, pipeline, uploadBuffer, type GpuOp } from './kernel';

/** Tokens up to which a linear layer runs the GEMV (weights streamed once for all of them). */
export const GEMV_MAX_ROWS = 8;
/** Output rows per fp8-gemv workgroup (its ROWS). */
const GEMV_ROWS_PER_GROUP = 2;

/** An E4M3 weight [rows, cols] on the GPU (or `experts` of them stacked), with its 128×128 block scales. */
export interface Fp8WeightBuffers {
  codes: GPUBuffer; // [experts, rows, cols] bytes
  scales: GPUBuffer; // [experts, ceil(rows/128), ceil(cols/128)] f32
  rows: number;
  cols: number;
  experts: number;
}

/** Uploads one or more same-shaped FP8 weights (experts are stacked in order). */
export function uploadFp8Weights(
  gpu: Gpu,
  weights: Fp8Weight[],
  rows: number,
  cols: number,
  label: string,
  block: readonly [number, number] = [FP8_BLOCK, FP8_BLOCK],
): Fp8WeightBuffers {
  const op = `uploadFp8Weights(${label})`;
  check(
    block[0] === FP8_BLOCK && block[1] === FP8_BLOCK,
    op,
    `weight blocks must be 128×128, got ${block[0]}×${block[1]}`,
  );
  check(
    cols % 16 === 0,
    op,
    `cols (${cols}) must be a multiple of 16 (the kernels read 16 codes at a time)`,
  );
  check(weights.length > 0, op, 'needs at least one weight');
  const nScales = Math.ceil(rows / FP8_BLOCK) * Math.ceil(cols / FP8_BLOCK);
  const codes = new Uint8Array(weights.length * rows * cols);
  const scales = new Float32Array(weights.length * nScales);
  weights.forEach((w, e) => {
    check(
      w.q.length === rows * cols && w.scaleInv.length === nScales,
      op,
      `weight ${e} is not [${rows}, ${cols}] with ${nScales} scales`,
    );
    codes.set(w.q, e * rows * cols);
    scales.set(w.scaleInv, e * nScales);
  });
  return {
    codes: uploadBuffer(gpu, codes, `${label}.codes`),
    scales: uploadBuffer(gpu, scales, `${label}.scales`),
    rows,
    cols,
    experts: weights.length,
  };
}

/**
 * x[rows, cols] → q[rows, cols] (E4M3 values as f32), scale[rows, ceil(cols/128)]. With passThrough,
 * q = x and scale = 1: the FP8 GEMMs downstream then run weight-only FP8 (f32 activations).
 */
export async function fp8Quantize(
  gpu: Gpu,
  b: { x: GPUBuffer; q: GPUBuffer; scale: GPUBuffer },
  s: { cols: number; maxRows: number; passThrough?: boolean },
): Promise<GpuOp> {
  const op = 'fp8Quantize',
    blocks = Math.ceil(s.cols / FP8_BLOCK);
  checkSize(op, 'x', b.x, s.maxRows * s.cols, `[${s.maxRows}, ${s.cols}]`);
  checkSize(op, 'q', b.q, s.maxRows * s.cols, `[${s.maxRows}, ${s.cols}]`);
  checkSize(op, 'scale', b.scale, s.maxRows * blocks, `[${s.maxRows}, ${blocks}]`);
  const call = new KernelCall(gpu, await pipeline(gpu, 'fp8-quantize'), op, [b.x, b.q, b.scale], 4);
  return (pass, rows) => {
    check(rows >= 1 && rows <= s.maxRows, op, `rows ${rows} outside 1..${s.maxRows}`);
    call.record(pass, [rows, s.cols, blocks, s.passThrough ? 1 : 0], [], grid(rows * blocks));
  };
}

/** Whether fp8-gemv-subgroups can run: the feature is on and every subgroup has at least 8 lanes. */
export function subgroupsOf8(gpu: Gpu): boolean {
  return gpu.features.has('subgroups') && gpu.adapter.subgroupMinSize >= 8;
}

export interface Fp8LinearBindings {
  weight: Fp8WeightBuffers;
  xq: GPUBuffer; // [rows, cols] from fp8Quantize
  xs: GPUBuffer; // [rows, ceil(cols/128)]
  out: GPUBuffer; // [rows, weight.rows]
}

/** out[rows, N] (+)= xq · Wᵀ with block scales: GEMV for ≤ 8 rows, register-blocked GEMM above. */
export async function fp8Linear(
  gpu: Gpu,
  b: Fp8LinearBindings,
  s: { maxRows: number; accumulate?: boolean },
): Promise<GpuOp> {
  const op = `fp8Linear(${b.weight.codes.label})`,
    { rows: N, cols: K } = b.weight;
  const kBlocks = Math.ceil(K / FP8_BLOCK);
  check(b.weight.experts === 1, op, 'takes one weight; use fp8GroupedGemm for stacked experts');
  checkSize(op, 'xq', b.xq, s.maxRows * K, `[${s.maxRows}, ${K}]`);
  checkSize(op, 'xs', b.xs, s.maxRows * kBlocks, `[${s.maxRows}, ${kBlocks}]`);
  checkSize(op, 'out', b.out, s.maxRows * N, `[${s.maxRows}, ${N}]`);
  const buffers = [b.weight.codes, b.weight.scales, b.xq, b.xs, b.out];
  // Coalesced variant where subgroups (of ≥ 8 lanes) exist; the portable one elsewhere (e.g. GLES).
  const gemvFile = subgroupsOf8(gpu) ? 'fp8-gemv-subgroups' : 'fp8-gemv';
  const gemv = new KernelCall(gpu, await pipeline(gpu, gemvFile), `${op}.gemv`, buffers, 5);
  const gemm =
    s.maxRows > GEMV_MAX_ROWS
      ? new KernelCall(gpu, await pipeline(gpu, 'fp8-gemm'), `${op}.gemm`, buffers, 5)
      : null;
  const acc = s.accumulate ? 1 : 0;
  return (pass, rows) => {
    check(rows >= 1 && rows <= s.maxRows, op, `rows ${rows} outside 1..${s.maxRows}`);
    const params = [rows, N, K, kBlocks, acc];
    if (rows <= GEMV_MAX_ROWS || !gemm)
      gemv.record(pass, params, [], grid(Math.ceil(N / GEMV_ROWS_PER_GROUP)));
    else gemm.record(pass, params, [], [Math.ceil(N / 32), Math.ceil(rows / 32)]);
  };
}

export interface Fp8GroupedBindings {
  weights: Fp8WeightBuffers; // experts stacked
  xq: GPUBuffer; // [source rows, K]
  xs: GPUBuffer; // [source rows, ceil(K/128)]
  rowToken: GPUBuffer; // u32 [maxRows] source row of each expert-sorted row (read when gather)
  offsets: GPUBuffer; // u32 [experts + 1]
  out: GPUBuffer; // [maxRows, N]
}

/** Expert-sorted rows through their experts' weights; the dispatch covers every expert, rows come from offsets. */
export async function fp8GroupedGemm(
  gpu: Gpu,
  b: Fp8GroupedBindings,
  s: { maxRows: number; maxSourceRows: number; gather: boolean },
): Promise<GpuOp> {
  const op = `fp8GroupedGemm(${b.weights.codes.label})`,
    { rows: N, cols: K, experts: E } = b.weights;
  const kBlocks = Math.ceil(K / FP8_BLOCK),
    nBlocks = Math.ceil(N / FP8_BLOCK);
  const src = s.gather ? s.maxSourceRows : s.maxRows;
  checkSize(op, 'xq', b.xq, src * K, `[${src}, ${K}]`);
  checkSize(op, 'xs', b.xs, src * kBlocks, `[${src}, ${kBlocks}]`);
  checkSize(op, 'rowToken', b.rowToken, s.maxRows, `[${s.maxRows}] u32`);
  checkSize(op, 'offsets', b.offsets, E + 1, `[${E + 1}] u32`);
  checkSize(op, 'out', b.out, s.maxRows * N, `[${s.maxRows}, ${N}]`);
  check(
    Math.ceil(N / 8) <= 65535 && E <= 65535,
    op,
    `N/8 (${Math.ceil(N / 8)}) and experts (${E}) must fit one dispatch dimension`,
  );
  const buffers = [b.weights.codes, b.weights.scales, b.xq, b.xs, b.rowToken, b.offsets, b.out];
  const call = new KernelCall(gpu, await pipeline(gpu, 'fp8-grouped-gemm'), op, buffers, 5);
  return (pass, rows) => {
    check(rows >= 1 && rows <= s.maxRows, op, `rows ${rows} outside 1..${s.maxRows}`);
    call.record(pass, [N, K, kBlocks, nBlocks, s.gather ? 1 : 0], [], [Math.ceil(N / 8), E]);
  };
}
