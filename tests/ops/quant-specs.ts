// How each QuantOps op is exercised: seeded weights quantized on the host (kernels-wasm/quant.ts, and
// engine/formats/fp8.ts for FP8), float64 references of the dequantized math, and costs.
// Q8_0/Q4_0 outputs are checked twice: against dequantized W · x (the error then includes the int8
// activation quantization, ~1e-5), and against dequantized W · dequantized int8 x (the kernel's own
// integer math: only f32 rounding remains). `codes: 'raw'` draws the Q8_0 weights as random bytes and f16
// scales instead (every code -128..127, scales 2^-7..2^8 of either sign) and activations with a zero, exact
// .5 ties of x/d and a large outlier: the edge cases of the relaxed-SIMD build's matvecQ8.
import { dequantizeWeightFp8, quantizeWeightFp8 } from '../../engine/formats/fp8';
import {
  dequantize,
  paddedCols,
  q4x8ScratchBytes,
  quantScratchBytes,
  quantizeActivations,
  quantizeQ4_0,
  quantizeQ8_0,
  type QuantWeight,
} from '../../kernels-wasm/quant';
import type { Q4x8Ops, QuantOps } from '../../kernels-wasm/types';
import { placeBytes, placeF32, uniform, type Check, type Family, type OpSpec } from './case';
import { refMatmul } from './reference';

export const quantFamily: Family<QuantOps> = {
  name: 'quant',
  of: (b) => b.quant && { main: b.quant, scalar: b.quant.scalar },
};

/** Q4_0 repacked for one lane per row (kernels-wasm/assembly/q4x8.ts): absent from older builds. */
export const q4x8Family: Family<Q4x8Ops> = {
  name: 'q4x8',
  of: (b) => b.q4x8 && { main: b.q4x8, scalar: b.q4x8.scalar },
};

export interface QuantShape {
  rows: number;
  cols: number;
  /** Tokens (1 for the matvec ops). */
  n: number;
  /** Q8_0 only: random codes and scales, edge-case activations (see the top). */
  codes?: 'raw';
}

export interface Fp8Shape extends QuantShape {
  br: number;
  bc: number;
  /** Activations are uniform in ±xMax (default 2); large ones make the matvec take its unfolded path. */
  xMax?: number;
}

/** f32 accumulation of exact products: the measured worst case is ~1e-13; dots of 10^4 terms stay < 1e-10. */
export const F32_DOTS = 1e-10;
/** int8 activations per 32-block, uniform inputs: measured ~1.5e-5 (step amax/127). */
export const INT8_ACTIVATIONS = 1e-4;

interface QuantHost {
  w: QuantWeight;
  x: Float32Array;
}

function int8MathReference(wd: Float64Array, x: Float32Array, s: QuantShape): Float64Array {
  const xd = new Float64Array(s.n * s.cols);
  for (let t = 0; t < s.n; t++) {
    const { q, d } = quantizeActivations(x.subarray(t * s.cols, (t + 1) * s.cols), s.cols);
    for (let c = 0; c < s.cols; c++) xd[t * s.cols + c] = q[c] * d[Math.floor(c / 32)];
  }
  return refMatmul(wd, xd, s.rows, s.cols, s.n);
}

/**
 * Random Q8_0 bytes or Q4_0 nibbles and f16 scales (exponents 0x08..0x17, either sign); activations in ±3
 * with edges.
 */
function rawCodes(kind: 'q8_0' | 'q4_0', s: QuantShape, rand: () => number): QuantHost {
  const k = paddedCols(s.cols);
  const bytes = kind === 'q8_0' ? s.rows * k : (s.rows * k) / 2;
  const q = Uint8Array.from({ length: bytes }, () => Math.floor(rand() * 256));
  q[0] = kind === 'q8_0' ? 0x80 : 0x0f; // -128 (Q8_0) or the nibbles 15 and 0 against the negative activation
  const d = Uint16Array.from(
    { length: (s.rows * k) / 32 },
    () =>
      (rand() < 0.5 ? 0x8000 : 0) | (Math.floor(8 + rand() * 16) << 10) | Math.floor(rand() * 1024),
  );
  const x = uniform(rand, s.cols, -3, 3);
  x[0] = -1;
  if (s.cols > 4) x.set([0, 127, 0.5, -1.5], 1); // with amax 127, d = 1: q = x, with .5 ties
  if (s.cols > 40) x[40] = -1000;
  return { w: { kind, rows: s.rows, cols: s.cols, q, d }, x };
}

function quantSpec(
  kind: 'q8_0' | 'q4_0',
  op: keyof QuantOps | keyof Q4x8Ops,
): OpSpec<QuantOps, QuantShape, QuantHost> {
  const quantize = kind === 'q8_0' ? quantizeQ8_0 : quantizeQ4_0;
  const packed = op === 'matvecQ4x8' || op === 'matmulQ4x8';
  return {
    family: (packed ? q4x8Family : quantFamily) as Family<QuantOps>,
    setup: (s, rand) =>
      s.codes === 'raw'
        ? rawCodes(kind, s, rand)
        : {
            w: quantize(uniform(rand, s.rows * s.cols), s.rows, s.cols),
            x: uniform(rand, s.n * s.cols),
          },
    checks(h, s): Check[] {
      const wd = dequantize(h.w);
      const intMath: Check = {
        output: 'out',
        label: 'vs float64 of the int8-activation math',
        want: int8MathReference(wd, h.x, s),
        nmse: F32_DOTS,
      };
      if (s.codes === 'raw') return [intMath];
      return [
        {
          output: 'out',
          label: 'vs float64 dequantized W · x',
          want: refMatmul(wd, h.x, s.rows, s.cols, s.n),
          nmse: INT8_ACTIVATIONS,
        },
        intMath,
      ];
    },
    place(b, h, s) {
      const ptrs = {
        w: placeBytes(b, h.w.q),
        d: placeBytes(b, h.w.d),
        x: placeF32(b, h.x),
        xq: b.alloc(quantScratchBytes(s.cols, s.n) / 4),
        out: b.alloc(s.n * s.rows),
      };
      // repacked in place once; the checks dequantize the ggml-order codes it started from
      if (packed)
        b.q4x8!.packQ4x8(ptrs.w, ptrs.d, s.rows, s.cols, b.alloc(q4x8ScratchBytes(s.cols) / 4));
      return { ptrs, outputs: { out: s.n * s.rows }, reset: () => b.write(ptrs.x, h.x) };
    },
    invoke(o, p, s) {
      if (op === 'matvecQ8' || op === 'matvecQ4') o[op](p.out, p.w, p.d, p.x, p.xq, s.rows, s.cols);
      else if (op === 'matmulQ8' || op === 'matmulQ4')
        o[op](p.out, p.w, p.d, p.x, p.xq, s.rows, s.cols, s.n);
      else if (op === 'matvecQ4x8')
        (o as unknown as Q4x8Ops).matvecQ4x8(p.out, p.w, p.d, p.x, p.xq, s.rows, s.cols);
      else if (op === 'matmulQ4x8')
        (o as unknown as Q4x8Ops).matmulQ4x8(p.out, p.w, p.d, p.x, p.xq, s.rows, s.cols, s.n);
    },
    cost(s) {
      const k = paddedCols(s.cols),
        codes = kind === 'q8_0' ? k : k / 2;
      return {
        flops: 2 * s.n * s.rows * s.cols,
        bytes: s.rows * (codes + (k / 32) * 2) + 4 * s.n * (s.cols + s.rows),
      };
    },
  };
}

interface Fp8Host {
  q: Uint8Array;
  scaleInv: Float32Array;
  x: Float32Array;
}

function fp8Spec(op: 'matvecFp8' | 'matmulFp8'): OpSpec<QuantOps, Fp8Shape, Fp8Host> {
  return {
    family: quantFamily,
    setup(s, rand) {
      // Normal-ish weights (sum of uniforms) with a few outliers, so blocks use the whole E4M3 range.
      const w = Float32Array.from(
        { length: s.rows * s.cols },
        () => (rand() + rand() + rand() - 1.5) * (rand() < 0.01 ? 20 : 1),
      );
      return {
        ...quantizeWeightFp8(w, s.rows, s.cols, [s.br, s.bc]),
        x: uniform(rand, s.n * s.cols, -(s.xMax ?? 2), s.xMax ?? 2),
      };
    },
    checks(h, s) {
      const wd = dequantizeWeightFp8(h, s.rows, s.cols, [s.br, s.bc]);
      return [
        {
          output: 'out',
          label: 'vs float64 dequantized W · x',
          want: refMatmul(wd, h.x, s.rows, s.cols, s.n),
          nmse: F32_DOTS,
        },
      ];
    },
    place(b, h, s) {
      const ptrs = {
        w: placeBytes(b, h.q),
        s: placeF32(b, h.scaleInv),
        x: placeF32(b, h.x),
        scratch: b.alloc(4 * s.cols),
        out: b.alloc(s.n * s.rows),
      };
      return { ptrs, outputs: { out: s.n * s.rows }, reset: () => b.write(ptrs.x, h.x) };
    },
    invoke(o, p, s) {
      if (op === 'matvecFp8') o.matvecFp8(p.out, p.w, p.s, p.x, s.rows, s.cols, s.br, s.bc);
      else o.matmulFp8(p.out, p.w, p.s, p.x, p.scratch, s.rows, s.cols, s.n, s.br, s.bc);
    },
    cost(s) {
      const scales = Math.ceil(s.rows / s.br) * Math.ceil(s.cols / s.bc);
      return {
        flops: 2 * s.n * s.rows * s.cols,
        bytes: s.rows * s.cols + 4 * scales + 4 * s.n * (s.cols + s.rows),
      };
    },
  };
}

export const quantSpecs = {
  matvecQ8: quantSpec('q8_0', 'matvecQ8'),
  matmulQ8: quantSpec('q8_0', 'matmulQ8'),
  matvecQ4: quantSpec('q4_0', 'matvecQ4'),
  matmulQ4: quantSpec('q4_0', 'matmulQ4'),
  matvecQ4x8: quantSpec('q4_0', 'matvecQ4x8'),
  matmulQ4x8: quantSpec('q4_0', 'matmulQ4x8'),
  matvecFp8: fp8Spec('matvecFp8'),
  matmulFp8: fp8Spec('matmulFp8'),
};
