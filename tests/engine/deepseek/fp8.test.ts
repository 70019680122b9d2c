import { describe, expect, it } from 'vitest';
import {
  E4M3_VALUES,
  decodeE4M3,
  dequantizeWeightFp8,
  encodeE4M3,
  quantizeWeightFp8,
} from '../../../engine/formats/fp8';
import { fp8Gemm, quantizeActivationsFp8 } from '../../../engine/deepseek/fp8';
import { nmse } from '../../ops/nmse';
import { seededNormals } from '../../../engine/deepseek/synthetic';

/** The E4M3fn value of a code, straight from its bit fields. */
function fromBits(c: number): number {
  const s = c >> 7,
    e = (c >> 3) & 15,
    m = c & 7;
  if (e === 15 && m === 7) return NaN;
  const mag = e === 0 ? (m / 8) * 2 ** -6 : (1 + m / 8) * 2 ** (e - 7);
  return s ? -mag : mag;
}

/** Random values that are never zero: |x| ≥ 0.05 with random sign. */
function nonZero(seed: number, name: string, n: number): Float32Array {
  const v = seededNormals(seed, name, n);
  return v.map((x) => Math.sign(x || 1) * (Math.abs(x) + 0.05));
}

describe('E4M3fn codec, all 256 codes', () => {
  it('decodes every code per the format, with NaN only at 0x7F and 0xFF', () => {
    for (let c = 0; c < 256; c++)
      expect(Object.is(decodeE4M3(c), fromBits(c)) || decodeE4M3(c) === fromBits(c)).toBe(true);
    expect([0x00, 0x01, 0x08, 0x38, 0x7e].map(decodeE4M3)).toEqual([0, 2 ** -9, 2 ** -6, 1, 448]);
    expect(Object.is(decodeE4M3(0x80), -0)).toBe(true);
    expect([...E4M3_VALUES].filter(Number.isNaN).length).toBe(2);
    for (let c = 0; c < 0x7e; c++) expect(decodeE4M3(c + 1)).toBeGreaterThan(decodeE4M3(c)); // monotone
  });

  it('encode(decode(c)) = c for all 254 finite codes', () => {
    for (let c = 0; c < 256; c++)
      if (c !== 0x7f && c !== 0xff) expect(encodeE4M3(decodeE4M3(c))).toBe(c);
  });

  it('rounds to nearest, ties to even, including subnormals', () => {
    for (let c = 0; c < 0x7e; c++) {
      const lo = decodeE4M3(c),
        hi = decodeE4M3(c + 1),
        mid = (lo + hi) / 2;
      const even = c % 2 === 0 ? c : c + 1;
      expect(encodeE4M3(mid)).toBe(even);
      expect(encodeE4M3(-mid)).toBe(0x80 | even);
      expect(encodeE4M3(mid - (hi - lo) / 8)).toBe(c);
      expect(encodeE4M3(mid + (hi - lo) / 8)).toBe(c + 1);
    }
    expect(encodeE4M3(2 ** -10)).toBe(0x00); // half the smallest subnormal → 0 (even)
    expect(encodeE4M3(2 ** -11)).toBe(0x00);
  });

  it('saturates at ±448 and maps NaN to 0x7F', () => {
    for (const x of [448, 449, 464, 480, 1e6, Infinity]) {
      expect(encodeE4M3(x)).toBe(0x7e);
      expect(encodeE4M3(-x)).toBe(0xfe);
    }
    expect(encodeE4M3(NaN)).toBe(0x7f);
  });

  it('keeps relative error ≤ 2^-4 in the normal range (3 mantissa bits)', () => {
    const v = nonZero(3, 'codec', 4096);
    for (const x of v)
      expect(Math.abs(decodeE4M3(encodeE4M3(x)) - x) / Math.abs(x)).toBeLessThanOrEqual(2 ** -4);
  });
});

describe('DeepSeek FP8 block scaling', () => {
  // Ragged on purpose: 200 = 128 + 72 rows, 300 = 2·128 + 44 cols.
  const rows = 200,
    cols = 300,
    m = 4;
  const w = seededNormals(7, 'w', rows * cols).map((x) => x * 0.02 + (x >= 0 ? 1e-4 : -1e-4));
  const x = nonZero(8, 'x', m * cols);

  it('dequantizes 128×128 weight blocks, ragged edges included (NMSE < 1e-3)', () => {
    const fw = quantizeWeightFp8(w, rows, cols);
    expect(fw.scaleInv.length).toBe(2 * 3);
    expect(fw.scaleInv[1 * 3 + 2]).toBeCloseTo(
      maxAbs(w, rows, cols, [128, 200], [256, 300]) / 448,
      9,
    );
    const back = dequantizeWeightFp8(fw, rows, cols);
    expect(nmse(back, w)).toBeLessThan(1e-3); // measured ≈ 7e-4
    // The amax element of every block lands exactly on ±448.
    expect(fw.q.filter((q) => (q & 0x7f) === 0x7e).length).toBeGreaterThanOrEqual(6);
  });

  it('quantizes activations per 1×128 block with scale amax/448', () => {
    const a = quantizeActivationsFp8(x, m, cols);
    expect(a.scale.length).toBe(m * 3);
    expect(a.scale[1 * 3 + 2]).toBe(Math.fround(maxAbs(x, m, cols, [1, 2], [256, 300]) / 448));
    const back = Float64Array.from(
      a.q,
      (q, i) => decodeE4M3(q) * a.scale[Math.floor(i / cols) * 3 + Math.floor((i % cols) / 128)],
    );
    expect(nmse(back, x)).toBeLessThan(1e-3);
  });

  it('fp8Gemm matches the float64 GEMM within NMSE 2e-3 and the dequantized product within f32 rounding', () => {
    const fw = quantizeWeightFp8(w, rows, cols);
    const a = quantizeActivationsFp8(x, m, cols);
    const y = fp8Gemm(a, fw, m, rows, cols);
    const exact = gemm64(x, w, m, rows, cols);
    expect(nmse(y, exact)).toBeLessThan(2e-3); // measured ≈ 1e-3: both operands carry E4M3 rounding
    const wd = dequantizeWeightFp8(fw, rows, cols);
    const xd = Float64Array.from(
      a.q,
      (q, i) => decodeE4M3(q) * a.scale[Math.floor(i / cols) * 3 + Math.floor((i % cols) / 128)],
    );
    expect(nmse(y, gemm64(xd, wd, m, rows, cols))).toBeLessThan(1e-12);
  });
});

function maxAbs(
  v: ArrayLike<number>,
  _rows: number,
  cols: number,
  [r0, r1]: number[],
  [c0, c1]: number[],
): number {
  let mx = 0;
  for (let r = r0; r < r1; r++)
    for (let c = c0; c < c1; c++) mx = Math.max(mx, Math.abs(v[r * cols + c]));
  return mx;
}

function gemm64(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  m: number,
  n: number,
  k: number,
): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += x[i * k + t] * w[j * k + t];
      out[i * n + j] = s;
    }
  return out;
}
