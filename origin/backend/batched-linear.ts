// Projections over a whole step: out[n, rows] = x[n, cols] · Wᵀ for every token at once, through the
// origin's wasm kernels. Weights are copied into the arena at start, in the form the reference model
// holds them (f32, or FP8 codes + 128×128 scales), and each call gives bit-for-bit what
// engine/deepseek/linear.ts gives token by token (tests/origin/backend.test.ts checks it).
import { E4M3_VALUES } from '../../engine/deepseek/fp8';
import type { Linear } from '../../engine/deepseek/linear';
import type { BatchKernelExports } from '../kernels/wasm';
import type { WasmArena } from './wasm-arena';

export type WasmLinear =
  | { kind: 'f32'; rows: number; cols: number; w: number }
  | { kind: 'fp8'; rows: number; cols: number; q: number; scale: number; block: [number, number] };

/** Reserves the projection's weights in the arena (copied in when the arena finishes). */
export function uploadLinear(arena: WasmArena, lin: Linear): WasmLinear {
  const { rows, cols } = lin;
  if (lin.kind === 'f32')
    return { kind: 'f32', rows, cols, w: arena.alloc(lin.w.byteLength, lin.w) };
  const q = arena.alloc(lin.weight.q.byteLength, lin.weight.q);
  const scale = arena.alloc(lin.weight.scaleInv.byteLength, lin.weight.scaleInv);
  return { kind: 'fp8', rows, cols, q, scale, block: lin.block };
}

/**
 * Activations projections read: x[n, cols] f64 in the arena, plus their FP8 form (decoded values and
 * 1×bc scales), computed by the first FP8 projection that reads them and reused by the others (MLA's
 * q_a and kv_a share one input; so do every expert's gate and up, and the shared expert's).
 */
export class LinearInput {
  n = 0;
  cols = 0;
  /** Block width the FP8 form was made with; 0 while there is none. */
  quantizedBc = 0;

  constructor(
    readonly x: number,
    readonly xd: number,
    readonly xs: number,
    readonly maxT: number,
    readonly maxCols: number,
  ) {}

  /** x now holds n new rows of `cols` (row-major): any FP8 form is stale. */
  reset(n: number, cols: number): this {
    if (n > this.maxT || cols > this.maxCols)
      throw new RangeError(`${n}×${cols} exceeds this input's ${this.maxT}×${this.maxCols}`);
    this.n = n;
    this.cols = cols;
    this.quantizedBc = 0;
    return this;
  }
}

/**
 * The kernels' shared staging, sized once for the widest projection and the largest step. Reserved
 * in the arena at construction; usable once the arena has finished and the kernels are attached.
 */
export class BatchedLinear {
  private readonly xt: number; // [maxCols, maxT + 3] f64 (f32 path) or f32 (fp8 path): transposed activations
  private readonly st: number; // [maxBlocks, maxT + 3] f32: transposed scales
  private readonly table: number; // [256] f32: E4M3 values
  private readonly out32: number; // [maxT, maxRows] f32: FP8 GEMM output
  private k: BatchKernelExports | null = null;
  private mem64 = new Float64Array(0);
  private mem32 = new Float32Array(0);

  constructor(
    private readonly arena: WasmArena,
    readonly maxT: number,
    readonly maxCols: number,
    readonly maxRows: number,
  ) {
    this.xt = arena.alloc(maxCols * (maxT + 3) * 8);
    this.st = arena.alloc(blocksOf(maxCols) * (maxT + 3) * 4);
    this.table = arena.alloc(256 * 4, E4M3_VALUES);
    this.out32 = arena.alloc(maxT * maxRows * 4);
  }

  /** Binds the kernels instantiated over the finished arena. */
  attach(k: BatchKernelExports): void {
    this.k = k;
    this.mem64 = new Float64Array(k.memory.buffer);
    this.mem32 = new Float32Array(k.memory.buffer);
  }

  /** An input over x[maxT, maxCols] (f64, arena) with its own FP8 staging. */
  input(x: number, maxT: number, maxCols: number): LinearInput {
    return new LinearInput(
      x,
      this.arena.alloc(maxT * maxCols * 4),
      this.arena.alloc(maxT * blocksOf(maxCols) * 4),
      maxT,
      maxCols,
    );
  }

  /** Makes the input's FP8 form for blocks of width bc, unless it has it. */
  quantize(input: LinearInput, bc: number): void {
    if (input.quantizedBc === bc) return;
    this.kernels.quantizeFp8(input.xd, input.xs, input.x, input.n, input.cols, bc);
    input.quantizedBc = bc;
  }

  /** dst's rows i = src's rows rows[i] (f64, and the FP8 form when src has one). */
  gather(dst: LinearInput, src: LinearInput, rows: ArrayLike<number>, n: number): void {
    const c = src.cols,
      m64 = this.mem64,
      m32 = this.mem32,
      x0 = src.x / 8,
      d0 = dst.x / 8;
    dst.reset(n, c);
    for (let i = 0; i < n; i++)
      m64.copyWithin(d0 + i * c, x0 + rows[i] * c, x0 + (rows[i] + 1) * c);
    if (src.quantizedBc === 0) return;
    const nkb = Math.ceil(c / src.quantizedBc),
      xd = src.xd / 4,
      xs = src.xs / 4;
    for (let i = 0; i < n; i++) {
      m32.copyWithin(dst.xd / 4 + i * c, xd + rows[i] * c, xd + (rows[i] + 1) * c);
      m32.copyWithin(dst.xs / 4 + i * nkb, xs + rows[i] * nkb, xs + (rows[i] + 1) * nkb);
    }
    dst.quantizedBc = src.quantizedBc;
  }

  /** out[n, rows] f64 = input[n, cols] · Wᵀ, n the input's current rows. */
  run(out: number, lin: WasmLinear, input: LinearInput): void {
    const n = input.n;
    if (n > this.maxT || lin.cols !== input.cols || lin.rows > this.maxRows) {
      throw new RangeError(
        `projection [${lin.rows}, ${lin.cols}] over ${n}×${input.cols} inputs exceeds the staging or mismatches`,
      );
    }
    const k = this.kernels;
    if (lin.kind === 'f32') {
      k.gemmF32(out, lin.w, input.x, this.xt, n, lin.rows, lin.cols);
      return;
    }
    const [br, bc] = lin.block;
    this.quantize(input, bc);
    k.gemmFp8(
      this.out32,
      lin.q,
      lin.scale,
      input.xd,
      input.xs,
      this.xt,
      this.st,
      this.table,
      n,
      lin.rows,
      lin.cols,
      br,
      bc,
    );
    const o32 = this.out32 / 4;
    this.mem64.set(this.mem32.subarray(o32, o32 + n * lin.rows), out / 8); // f32 → f64, as linear() copies scratch.out
  }

  private get kernels(): BatchKernelExports {
    if (!this.k) throw new Error('BatchedLinear used before attach()');
    return this.k;
  }
}

/** FP8 scale blocks of a row of `cols`, for any block width ≥ 16. */
const blocksOf = (cols: number) => Math.ceil(cols / 16) + 1;
