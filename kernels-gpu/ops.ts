// Host wrappers of the row-wise kernels: RMSNorm, RoPE/YaRN, SwiGLU, embedding lookup and the f32 linear
// layer (router, LM head). Every op reads the step's rows from a `rowInfo` buffer of (token, pos, slot, 0).
import type { DeepSeekConfig } from '../engine/deepseek/config';
import { ropeAngles, ropeAttentionFactor, ropeInvFreq } from '../engine/deepseek/rope';
import type { Gpu } from './device';
import { check, checkSize, grid, KernelCall, pipeline, uploadBuffer, type GpuOp } from './kernel';

const rowsIn = (op: string, rows: number, max: number) =>
  check(rows >= 1 && rows <= max, op, `rows ${rows} outside 1..${max}`);

/** out[r, :n] = rmsnorm(x[r, :n]) · weight, rows strided by inStride / outStride (default n). */
export async function rmsNorm(
  gpu: Gpu,
  b: { x: GPUBuffer; weight: GPUBuffer; out: GPUBuffer },
  s: { n: number; eps: number; maxRows: number; inStride?: number; outStride?: number },
): Promise<GpuOp> {
  const op = 'rmsNorm',
    inStride = s.inStride ?? s.n,
    outStride = s.outStride ?? s.n;
  check(
    inStride >= s.n && outStride >= s.n,
    op,
    `strides (${inStride}, ${outStride}) must be ≥ n (${s.n})`,
  );
  checkSize(op, 'x', b.x, s.maxRows * inStride, `[${s.maxRows}, ${inStride}]`);
  checkSize(op, 'weight', b.weight, s.n, `[${s.n}]`);
  checkSize(op, 'out', b.out, s.maxRows * outStride, `[${s.maxRows}, ${outStride}]`);
  check(b.x !== b.out, op, 'x and out must be different buffers');
  const call = new KernelCall(gpu, await pipeline(gpu, 'rmsnorm'), op, [b.x, b.weight, b.out], 5);
  return (pass, rows) => {
    rowsIn(op, rows, s.maxRows);
    call.record(pass, [rows, s.n, inStride, outStride], [s.eps], grid(rows));
  };
}

/** cos/sin of every position 0..maxPos-1 for the config's rope dim, YaRN included: [maxPos, dim/2] (cos, sin). */
export function ropeTable(c: DeepSeekConfig, maxPos: number): Float32Array {
  const half = c.qkRopeHeadDim / 2;
  const inv = ropeInvFreq(c.qkRopeHeadDim, c.ropeTheta, c.ropeScaling),
    factor = ropeAttentionFactor(c.ropeScaling);
  const cos = new Float64Array(half),
    sin = new Float64Array(half),
    table = new Float32Array(maxPos * half * 2);
  for (let pos = 0; pos < maxPos; pos++) {
    ropeAngles(pos, inv, factor, cos, sin);
    for (let i = 0; i < half; i++) table.set([cos[i], sin[i]], (pos * half + i) * 2);
  }
  return table;
}

export function uploadRopeTable(gpu: Gpu, c: DeepSeekConfig, maxPos: number): GPUBuffer {
  return uploadBuffer(gpu, ropeTable(c, maxPos), 'rope.table');
}

/** In place on x[t, h·headStride + offset .. + 2·half] for every head, at each row's position. */
export async function rope(
  gpu: Gpu,
  b: { x: GPUBuffer; table: GPUBuffer; rowInfo: GPUBuffer },
  s: {
    heads: number;
    rowStride: number;
    headStride: number;
    offset: number;
    dim: number;
    maxPos: number;
    maxRows: number;
  },
): Promise<GpuOp> {
  const op = 'rope',
    half = s.dim / 2;
  check(s.dim % 2 === 0, op, `rope dim ${s.dim} must be even`);
  check(
    s.offset + s.dim <= s.headStride &&
      (s.heads - 1) * s.headStride + s.offset + s.dim <= s.rowStride,
    op,
    'rope part must lie inside each head and row',
  );
  checkSize(op, 'x', b.x, s.maxRows * s.rowStride, `[${s.maxRows}, ${s.rowStride}]`);
  checkSize(op, 'table', b.table, s.maxPos * s.dim, `[${s.maxPos}, ${half}] × (cos, sin)`);
  checkSize(op, 'rowInfo', b.rowInfo, s.maxRows * 4, `[${s.maxRows}] × 4 u32`);
  const call = new KernelCall(gpu, await pipeline(gpu, 'rope'), op, [b.x, b.table, b.rowInfo], 7);
  return (pass, rows) => {
    rowsIn(op, rows, s.maxRows);
    call.record(
      pass,
      [rows, s.heads, s.rowStride, s.headStride, s.offset, half, s.maxPos],
      [],
      grid(Math.ceil((rows * s.heads * half) / 64)),
    );
  };
}

/** gate[r, :] = silu(gate[r, :]) · up[r, :], rows of n. */
export async function swiglu(
  gpu: Gpu,
  b: { gate: GPUBuffer; up: GPUBuffer },
  s: { n: number; maxRows: number },
): Promise<GpuOp> {
  const op = 'swiglu';
  checkSize(op, 'gate', b.gate, s.maxRows * s.n, `[${s.maxRows}, ${s.n}]`);
  checkSize(op, 'up', b.up, s.maxRows * s.n, `[${s.maxRows}, ${s.n}]`);
  const call = new KernelCall(gpu, await pipeline(gpu, 'swiglu'), op, [b.gate, b.up], 1);
  return (pass, rows) => {
    rowsIn(op, rows, s.maxRows);
    call.record(pass, [rows * s.n], [], grid(Math.ceil((rows * s.n) / 64)));
  };
}

/** out[t, :] = table[token of row t, :]. */
export async function embedding(
  gpu: Gpu,
  b: { table: GPUBuffer; rowInfo: GPUBuffer; out: GPUBuffer },
  s: { vocab: number; hidden: number; maxRows: number },
): Promise<GpuOp> {
  const op = 'embedding';
  check(s.hidden % 4 === 0, op, `hidden ${s.hidden} must be a multiple of 4`);
  checkSize(op, 'table', b.table, s.vocab * s.hidden, `[${s.vocab}, ${s.hidden}]`);
  checkSize(op, 'rowInfo', b.rowInfo, s.maxRows * 4, `[${s.maxRows}] × 4 u32`);
  checkSize(op, 'out', b.out, s.maxRows * s.hidden, `[${s.maxRows}, ${s.hidden}]`);
  const call = new KernelCall(
    gpu,
    await pipeline(gpu, 'embedding'),
    op,
    [b.table, b.rowInfo, b.out],
    3,
  );
  return (pass, rows) => {
    rowsIn(op, rows, s.maxRows);
    call.record(
      pass,
      [rows, s.hidden / 4, s.vocab],
      [],
      grid(Math.ceil((rows * s.hidden) / 4 / 64)),
    );
  };
}

/** out[rows, n] = x[rows, k] · w[n, k]ᵀ in f32 (router logits, LM head). */
export async function matmulF32(
  gpu: Gpu,
  b: { w: GPUBuffer; x: GPUBuffer; out: GPUBuffer },
  s: { n: number; k: number; maxRows: number },
): Promise<GpuOp> {
  const op = `matmulF32(${b.w.label})`;
  check(s.k % 4 === 0, op, `k ${s.k} must be a multiple of 4`);
  checkSize(op, 'w', b.w, s.n * s.k, `[${s.n}, ${s.k}]`);
  checkSize(op, 'x', b.x, s.maxRows * s.k, `[${s.maxRows}, ${s.k}]`);
  checkSize(op, 'out', b.out, s.maxRows * s.n, `[${s.maxRows}, ${s.n}]`);
  check(Math.ceil(s.n / 32) <= 65535, op, `n ${s.n} too large for one dispatch dimension`);
  const call = new KernelCall(gpu, await pipeline(gpu, 'matmul-f32'), op, [b.w, b.x, b.out], 3);
  return (pass, rows) => {
    rowsIn(op, rows, s.maxRows);
    call.record(pass, [rows, s.n, s.k / 4], [], [Math.ceil(s.n / 32), Math.ceil(rows / 32)]);
  };
}
