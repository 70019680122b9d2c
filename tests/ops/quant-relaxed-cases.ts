// Conformance cases of the relaxed-SIMD Q8_0 matvec (kernels-wasm/assembly/relaxed-quant.ts), run on the raw
// exports of kernels-relaxed.wasm in Node and inside workerd: its output must be bit-identical to
// matvec_q8_0 (same integer block sums, same lane partition) and match the scalar twin to f32 rounding.
// Awkward sizes (tails of 1..31 columns, odd block counts, one row), every weight byte -128..127 (random
// bytes, not quantizer output), and activations with zeros, exact .5 ties of x/d and one large outlier.
// Plain code, no Node imports: the Worker test imports it too.

export const RELAXED_Q8_SHAPES: [rows: number, cols: number][] = [
  [1, 1],
  [1, 32],
  [2, 31],
  [3, 33],
  [5, 63],
  [7, 64],
  [4, 65],
  [9, 95],
  [13, 96],
  [6, 200],
  [17, 257],
  [64, 768],
  [3, 2048],
];

interface RelaxedExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  matvec_q8_0(
    out: number,
    w: number,
    d: number,
    x: number,
    xq: number,
    rows: number,
    cols: number,
  ): void;
  matvec_q8_0_scalar(
    out: number,
    w: number,
    d: number,
    x: number,
    xq: number,
    rows: number,
    cols: number,
  ): void;
  matvec_q8_0_relaxed(
    out: number,
    w: number,
    d: number,
    x: number,
    xq: number,
    rows: number,
    cols: number,
  ): void;
}

export interface RelaxedCaseResult {
  shape: string;
  /** Rows where relaxed and matvec_q8_0 differ in any bit. */
  bitDiffs: number;
  /** max |relaxed - scalar| / (1 + |scalar|). */
  twinErr: number;
  nonZero: boolean;
}

/** Runs every shape on a fresh instance of kernels-relaxed.wasm. */
export async function runRelaxedQ8Cases(module: WebAssembly.Module): Promise<RelaxedCaseResult[]> {
  const { exports } = await WebAssembly.instantiate(module, {
    env: {
      abort: () => {
        throw new Error('kernels aborted');
      },
    },
  });
  const ex = exports as unknown as RelaxedExports;
  let s = 20261128;
  const rand = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const results: RelaxedCaseResult[] = [];
  for (const [rows, cols] of RELAXED_Q8_SHAPES) {
    const k = Math.ceil(cols / 32) * 32,
      nb = k / 32;
    const w = Uint8Array.from({ length: rows * k }, () => Math.floor(rand() * 256));
    w[0] = 0x80; // -128 against a negative activation below
    // f16 scales with exponents 0x08..0x17 (about 2^-7..2^8), either sign.
    const d = Uint16Array.from(
      { length: rows * nb },
      () =>
        (rand() < 0.5 ? 0x8000 : 0) |
        (Math.floor(8 + rand() * 16) << 10) |
        Math.floor(rand() * 1024),
    );
    const x = Float32Array.from({ length: cols }, () => (rand() * 2 - 1) * 3);
    x[0] = -1;
    if (cols > 4) {
      x[1] = 0;
      x[2] = 127;
      x[3] = 0.5;
      x[4] = -1.5;
    } // d = 1: q = x, with .5 ties
    if (cols > 40) x[40] = -1000;
    const base = (ex.heapBase() + 15) & ~15;
    const wp = base,
      dp = (wp + w.length + 16) & ~15,
      xp = (dp + d.byteLength + 16) & ~15,
      qp = (xp + cols * 4 + 16) & ~15;
    const o0 = (qp + (2 * k + nb * 8) + 16) & ~15,
      o1 = (o0 + rows * 4 + 16) & ~15,
      o2 = (o1 + rows * 4 + 16) & ~15;
    const end = o2 + rows * 4;
    const need = Math.ceil(end / 65536) - ex.memory.buffer.byteLength / 65536;
    if (need > 0) ex.memory.grow(need);
    const buf = ex.memory.buffer;
    new Uint8Array(buf, wp, w.length).set(w);
    new Uint16Array(buf, dp, d.length).set(d);
    new Float32Array(buf, xp, cols).set(x);
    ex.matvec_q8_0(o0, wp, dp, xp, qp, rows, cols);
    ex.matvec_q8_0_scalar(o1, wp, dp, xp, qp, rows, cols);
    ex.matvec_q8_0_relaxed(o2, wp, dp, xp, qp, rows, cols);
    const simd = new Float32Array(ex.memory.buffer, o0, rows),
      twin = new Float32Array(ex.memory.buffer, o1, rows);
    const relaxed = new Float32Array(ex.memory.buffer, o2, rows);
    const sb = new Uint32Array(ex.memory.buffer, o0, rows),
      rb = new Uint32Array(ex.memory.buffer, o2, rows);
    let bitDiffs = 0,
      twinErr = 0;
    for (let r = 0; r < rows; r++) {
      if (sb[r] !== rb[r]) bitDiffs++;
      twinErr = Math.max(twinErr, Math.abs(relaxed[r] - twin[r]) / (1 + Math.abs(twin[r])));
    }
    results.push({
      shape: `${rows}x${cols}`,
      bitDiffs,
      twinErr,
      nonZero: relaxed.some((v) => v !== 0) && simd.length === rows,
    });
  }
  return results;
}
