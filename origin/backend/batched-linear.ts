// Projections over a whole step: out[n, rows] = x[n, cols] · Wᵀ for every token at once, through the
// origin's wasm kernels. Weights are copied into the arena at start, in the form the reference model
// holds them (f32, or FP8 codes + 128×128 scales), and each call gives bit-for-bit what
// engine/deepseek/linear.ts gives token by token (tests/origin/kernels.test.ts checks it).
import { E4M3_VALUES } from '../../engine/deepseek/fp8';
import type { Linear } from '../../engine/deepseek/linear';
import type { BatchKernelExports } from '../kernels/wasm';
import type { WasmArena } from './wasm-arena';

export type WasmLinear =
  | { kind: 'f32'; rows: number; cols: number; w: number }
  | { kind: 'fp8'; rows: number; cols: number; q: number; scale: number; block: [number, number] };

/** Arena bytes uploadLinear() takes for this projection. */
export function linearBytes(lin: Linear): number {
  const pad = (b: number) => Math.ceil(b / 16) * 16;
  return lin.kind === 'f32' ? pad(lin.w.byteLength) : pad(lin.weight.q.byteLength) + pad(lin.weight.scaleInv.byteLength);
}

export function uploadLinear(arena: WasmArena, lin: Linear): WasmLinear {
  const { rows, cols } = lin;
  if (lin.kind === 'f32') {
    const w = arena.f32(rows * cols);
    w.view.set(lin.w);
    return { kind: 'f32', rows, cols, w: w.ptr };
  }
  const q = arena.u8(lin.weight.q.length);
  q.view.set(lin.weight.q);
  const scale = arena.f32(lin.weight.scaleInv.length);
  scale.view.set(lin.weight.scaleInv);
  return { kind: 'fp8', rows, cols, q: q.ptr, scale: scale.ptr, block: lin.block };
}

/** Staging buffers of the kernels, sized once for the widest projection and the largest step. */
export class BatchedLinear {
  private readonly xt: number; // [maxCols, maxT + 3] f64 (f32 path) or f32 (fp8 path)
  private readonly xd: number; // [maxT, maxCols] f32: decoded FP8 activations
  private readonly xs: number; // [maxT, maxBlocks] f32: their scales
  private readonly st: number; // [maxBlocks, maxT + 3] f32
  private readonly table: number; // [256] f32: E4M3 values
  private readonly out32: { ptr: number; view: Float32Array }; // [maxT, maxRows]
  private readonly mem64: Float64Array;

  constructor(private readonly k: BatchKernelExports, arena: WasmArena, readonly maxT: number, readonly maxCols: number, readonly maxRows: number) {
    const blocks = Math.ceil(maxCols / 16) + 1; // FP8 blocks are at least 16 wide
    this.xt = arena.alloc(maxCols * (maxT + 3) * 8);
    this.xd = arena.alloc(maxT * maxCols * 4);
    this.xs = arena.alloc(maxT * blocks * 4);
    this.st = arena.alloc(blocks * (maxT + 3) * 4);
    const table = arena.f32(256);
    table.view.set(E4M3_VALUES);
    this.table = table.ptr;
    this.out32 = arena.f32(maxT * maxRows);
    this.mem64 = new Float64Array(arena.memory.buffer);
  }

  /** Arena bytes the constructor takes. */
  static bytes(maxT: number, maxCols: number, maxRows: number): number {
    const blocks = Math.ceil(maxCols / 16) + 1;
    return [maxCols * (maxT + 3) * 8, maxT * maxCols * 4, maxT * blocks * 4, blocks * (maxT + 3) * 4, 1024, maxT * maxRows * 4]
      .reduce((s, b) => s + Math.ceil(b / 16) * 16, 0);
  }

  /** out[n, rows] f64 at `out` = x[n, cols] f64 at `x` · Wᵀ. */
  run(out: number, lin: WasmLinear, x: number, n: number): void {
    if (n > this.maxT || lin.cols > this.maxCols || lin.rows > this.maxRows) {
      throw new RangeError(`projection [${lin.rows}, ${lin.cols}] over ${n} tokens exceeds the staging size`);
    }
    if (lin.kind === 'f32') {
      this.k.gemmF32(out, lin.w, x, this.xt, n, lin.rows, lin.cols);
      return;
    }
    const [br, bc] = lin.block;
    this.k.quantizeFp8(this.xd, this.xs, x, n, lin.cols, bc);
    this.k.gemmFp8(this.out32.ptr, lin.q, lin.scale, this.xd, this.xs, this.xt, this.st, this.table, n, lin.rows, lin.cols, br, bc);
    const len = n * lin.rows;
    this.mem64.set(this.out32.view.subarray(0, len), out / 8); // f32 → f64, as linear() copies scratch.out
  }
}
