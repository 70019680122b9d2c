// IEEE 754 half precision, the one codec every room uses (F16 tensors, q8/q4 group scales, the
// prompt cache's scales and f16 rows): f32 → f16 with round-to-nearest-even (overflow to ±Infinity,
// underflow through the subnormals to ±0), and f16 → f32, per value or through a table.
// Node 22 has no Float16Array, so this is done on the bits.

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** The f16 bits nearest to x (ties to even). NaN stays a quiet NaN. */
export function f32ToF16(x: number): number {
  scratchF32[0] = x;
  const bits = scratchU32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15; // the f16 biased exponent
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal: the value is m · 2^-24 with m = (1.mant) shifted right by 14 - e.
    if (e < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - e;
    const m = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    return sign | (m + (rem > half || (rem === half && m & 1) ? 1 : 0));
  }
  const m = mant >>> 13;
  const rem = mant & 0x1fff;
  // A carry out of the mantissa bumps the exponent, up to Infinity: that is the right rounding.
  return sign | (((e << 10) | m) + (rem > 0x1000 || (rem === 0x1000 && m & 1) ? 1 : 0));
}

/** f32 → F16 tensor bits, value by value. */
export function f32ArrayToF16(x: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f32ToF16(x[i]);
  return out;
}

/** The value of f16 bits h (exact: every f16 is an f32). */
export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1,
    e = (h >> 10) & 0x1f,
    m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

let table: Float32Array | null = null;

/** f32 value of every f16 bit pattern (256 KiB, built on first use), for decoding loops. */
export function f16Table(): Float32Array {
  if (table) return table;
  table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) table[h] = f16ToF32(h);
  return table;
}
