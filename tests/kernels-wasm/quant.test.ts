// The quantized formats themselves: f16 scales, GGUF Q8_0/Q4_0 quantizer semantics and nibble layout,
// the activation quantizer's rounding, and every E4M3 code through the FP8 kernels' bit-trick decode.
import { describe, expect, it } from 'vitest';
import { E4M3_VALUES, quantizeWeightFp8 } from '../../engine/formats/fp8';
import { createWasmKernels } from '../../kernels-wasm/index';
import { loadKernelsModule } from '../../kernels-wasm/node';
import {
  dequantize,
  paddedCols,
  quantScratchBytes,
  quantizeActivations,
  quantizeQ4_0,
  quantizeQ8_0,
  uploadBytes,
  uploadQuant,
} from '../../kernels-wasm/quant';
import { f16ToF32, f32ToF16 } from '../../engine/formats/f16';

const module = await loadKernelsModule();
const fresh = () => createWasmKernels(module);

describe('f16 scales', () => {
  it('round-trips every finite f16 exactly and rounds to nearest even', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue;
      expect(f32ToF16(f16ToF32(h)), `0x${h.toString(16)}`).toBe(h === 0x8000 ? 0x8000 : h);
    }
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie → even mantissa
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(f32ToF16(2 ** -25)).toBe(0); // half of the smallest subnormal, tie → 0
    expect(f32ToF16(1.5 * 2 ** -25)).toBe(1);
    expect(f32ToF16(65520)).toBe(0x7c00); // rounds past the largest finite f16
  });

  it('the kernels decode f16 scales exactly, subnormal and negative included (Q8_0 matvec of one block)', async () => {
    const b = await fresh();
    for (const d of [0x0001, 0x03ff, 0x0400, 0x3c00, 0xbc00, 0x7bff, 0x8001, 0x3555]) {
      // One row of 32 codes equal to 1, x = all ones (quantizes to 127 with scale 1/127): out = 32 · 127 · d / 127.
      const w = {
        kind: 'q8_0' as const,
        rows: 1,
        cols: 32,
        q: new Uint8Array(32).fill(1),
        d: Uint16Array.of(d),
      };
      const p = uploadQuant(b, w),
        x = b.alloc(32),
        xq = b.alloc(quantScratchBytes(32) / 4),
        out = b.alloc(1);
      b.write(x, new Float32Array(32).fill(1));
      b.quant!.matvecQ8(out, p.w, p.d, x, xq, 1, 32);
      expect(b.f32(out, 1)[0]).toBeCloseTo(
        Math.fround(32 * 127 * Math.fround(f16ToF32(d) * Math.fround(1 / 127))),
        30,
      );
      expect(b.f32(out, 1)[0] / (32 * f16ToF32(d))).toBeCloseTo(1, 6);
    }
  });
});

describe('GGUF Q8_0 / Q4_0 quantizers', () => {
  it('Q8_0: d = amax/127, codes round half away from zero, rows padded to 32', () => {
    const w = quantizeQ8_0([127, -63.5, 0.5, -1, 2.4], 1, 5);
    expect(paddedCols(5)).toBe(32);
    expect(w.q.length).toBe(32);
    expect(f16ToF32(w.d[0])).toBe(1);
    expect(Array.from(new Int8Array(w.q.buffer)).slice(0, 6)).toEqual([127, -64, 1, -1, 2, 0]);
  });

  it('Q4_0: the largest magnitude maps to -8, byte j = element j | element j+16 << 4', () => {
    const v = Array.from({ length: 32 }, (_, j) =>
      j === 20 ? -16 : j === 3 ? 14 : j === 17 ? 2 : 0,
    );
    const w = quantizeQ4_0(v, 1, 32);
    expect(f16ToF32(w.d[0])).toBe(2); // max = -16 → d = -16 / -8 = 2
    const deq = dequantize(w);
    expect(deq[20]).toBe(-16);
    expect(deq[3]).toBe(14);
    expect(deq[17]).toBe(2);
    expect(w.q[4] >> 4).toBe(0); // element 20 → nibble 0 (= -8) in the high half of byte 4
    expect(w.q[3] & 15).toBe(15); // element 3 → 7 + 8
    const neg = quantizeQ4_0(
      v.map((x) => -x),
      1,
      32,
    ); // max = +16 → d = -2: scales keep their sign
    expect(f16ToF32(neg.d[0])).toBe(-2);
    expect(dequantize(neg)[20]).toBe(16);
  });

  it('activation quantization: per-32 scale amax/127, nearest with ties to even', () => {
    const x = new Float32Array(40);
    x[0] = 127;
    x[1] = 2.5;
    x[2] = -3.5;
    x[3] = 0.5;
    x[35] = -1;
    const { q, d } = quantizeActivations(x, 40);
    expect(Array.from(d)).toEqual([1, Math.fround(1 / 127)]);
    expect(Array.from(q.subarray(0, 4))).toEqual([127, 2, -4, 0]);
    expect(q[35]).toBe(-127);
  });

  it("the kernels' SIMD activation quantizer writes the same bytes as its scalar twin (ties, zeros, tails, outliers)", async () => {
    const inst = await WebAssembly.instantiate(module, { env: { abort() {} } });
    const ex = inst.exports as Record<string, (...a: number[]) => void> & {
      memory: WebAssembly.Memory;
      heapBase(): number;
    };
    ex.memory.grow(4);
    let s = 11;
    const rand = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (const [cols, n] of [
      [1, 1],
      [31, 2],
      [32, 1],
      [33, 3],
      [64, 2],
      [95, 1],
      [768, 2],
      [2048, 1],
      [4099, 1],
    ]) {
      const x = Float32Array.from(
        { length: cols * n },
        () => (rand() * 2 - 1) * (rand() < 0.1 ? 1e4 : 3),
      );
      for (let i = 0; i < x.length; i += 7) x[i] = i % 3 ? 0 : Math.round(x[i]) + 0.5; // zeros and exact halves
      if (cols >= 64) x.fill(0, 32, 64); // an all-zero block: d = 0
      const bytes = quantScratchBytes(cols, n),
        base = Math.ceil(ex.heapBase() / 16) * 16;
      const xp = base,
        a = (xp + 4 * x.length + 16) & ~15,
        b = (a + bytes + 16) & ~15;
      new Float32Array(ex.memory.buffer, xp, x.length).set(x);
      ex.quantize_activations(a, xp, cols, n);
      ex.quantize_activations_scalar(b, xp, cols, n);
      expect(new Uint8Array(ex.memory.buffer, a, bytes), `${cols}x${n}`).toEqual(
        new Uint8Array(ex.memory.buffer, b, bytes),
      );
    }
  });
});

describe('FP8 E4M3 decode in the kernels', () => {
  it('every code decodes to its E4M3 value times the block scale (NaN codes to ±480), in matvec and matmul', async () => {
    const b = await fresh();
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const w = uploadBytes(b, codes),
      s = b.alloc(2),
      x = b.alloc(2),
      out = b.alloc(512),
      scratch = b.alloc(4);
    b.write(x, Float32Array.of(1, 1));
    // 300: past 2^8, where scale · 2^120 would overflow, so the kernels take their per-code path.
    for (const scale of [1, 0.0078125, Math.fround(0.3), Math.fround(3.7e-5), 300]) {
      // 256 rows of one code each, x = [1]: out[r] = e4m3(r) · scale, as dequantizeWeightFp8 computes it.
      b.write(s, Float32Array.of(scale, scale));
      const want = (c: number) =>
        Math.fround(
          Number.isNaN(E4M3_VALUES[c]) ? (c & 0x80 ? -480 : 480) * scale : E4M3_VALUES[c] * scale,
        ) + 0; // a sum of -0 is +0
      for (const ops of [b.quant!, b.quant!.scalar]) {
        ops.matvecFp8(out, w, s, x, 256, 1, 128, 128);
        b.f32(out, 256).forEach((v, c) =>
          expect(v, `matvec code 0x${c.toString(16)} scale ${scale}`).toBe(want(c)),
        );
        ops.matmulFp8(out, w, s, x, scratch, 256, 1, 2, 128, 128);
        b.f32(out, 512).forEach((v, i) =>
          expect(v, `matmul code 0x${(i % 256).toString(16)} scale ${scale}`).toBe(want(i % 256)),
        );
      }
    }
  });

  it('vector path and tails: a 16-wide row of all codes per block position matches the dequantized weights', async () => {
    const b = await fresh();
    const rows = 16,
      cols = 48; // 3 vectors of 16 per row
    const w = Float32Array.from(
      { length: rows * cols },
      (_, i) => Math.sin(i) * (i % 7 === 0 ? 100 : 1),
    );
    const { q, scaleInv } = quantizeWeightFp8(w, rows, cols, [8, 16]);
    const wp = uploadBytes(b, q),
      sp = b.alloc(scaleInv.length),
      x = b.alloc(cols * 2),
      out = b.alloc(rows * 2),
      scratch = b.alloc(4 * cols);
    b.write(sp, scaleInv);
    for (let c = 0; c < cols; c++) {
      const onehot = new Float32Array(cols * 2);
      onehot[c] = 1;
      onehot[cols + c] = 1;
      b.write(x, onehot);
      b.quant!.matmulFp8(out, wp, sp, x, scratch, rows, cols, 2, 8, 16);
      const got = b.f32(out, rows * 2);
      for (let r = 0; r < rows; r++) {
        const want = Math.fround(
          E4M3_VALUES[q[r * cols + c]] * scaleInv[Math.floor(r / 8) * 3 + Math.floor(c / 16)],
        );
        expect(got[r]).toBe(want + 0);
        expect(got[rows + r]).toBe(want + 0);
      }
    }
  });
});
