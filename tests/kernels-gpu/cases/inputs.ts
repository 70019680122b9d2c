// Seeded, never-zero inputs for the WGSL rows of the one table (the same PRNG as tests/ops). Each input has
// its own fixed seed (the values the GPU rows always had), so these specs' `setup` ignores the case's rand.
import { prng } from '../../ops/case';

/** Uniform values in ±[lo, hi): never zero, random sign. */
export function nonZero(seed: number, n: number, lo = 0.05, hi = 1): Float32Array {
  const r = prng(seed);
  return Float32Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1) * (lo + (hi - lo) * r()));
}

/** Random E4M3 codes, never zero or NaN (0x00, 0x80, 0x7F, 0xFF), e.g. for weights too large to quantize in JS. */
export function randomCodes(seed: number, n: number): Uint8Array {
  const r = prng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let c = 0;
    while ((c & 0x7f) === 0 || (c & 0x7f) === 0x7f) c = Math.floor(r() * 256);
    out[i] = c;
  }
  return out;
}

/** Positive scales around `base` (block scales, activation scales). */
export function scales(seed: number, n: number, base = 1 / 448): Float32Array {
  const r = prng(seed);
  return Float32Array.from({ length: n }, () => base * (0.5 + r()));
}
