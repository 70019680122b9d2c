// FP8 E4M3 weights with DeepSeek-V3's block scales (one f32 scale_inv per br × bc block, [ceil(rows/br),
// ceil(cols/bc)]), times f32 activations. Codes become f32 bits of value · 2^-120 by unpacks, one shift and
// one mask (halfBits; the same bits as quant-common.ts e4m3Bits); one multiply by scale · 2^120 then gives
// each weight exactly as dequantizeWeightFp8 does. The matvec is compute-bound on that decode, so it folds
// scale · 2^120 into a copy of x once per block row (x' = x · s · 2^120, cols multiplies per br rows) and
// multiplies the bits by x' directly — one multiply per weight fewer (~1.2-1.4× measured); it falls back
// to scaling each weight when x' could overflow (|x| · s ≥ 128) or cols exceed the fold buffer.
// matmul dequantizes a few rows into an f32 scratch (L1/L2) and runs the f32 tiles of simd-dot.ts over the
// tokens, so prefill pays the decode once per row per token chunk and is then as fast as f32 matmul.
import { E4M3_RESCALE, e4m3Bits } from './quant-common';
import { hsum } from './simd-math';
import { dot1, dot1x2, dot4, dot4x2 } from './simd-dot';

/**
 * f32 bits (value · 2^-120, see e4m3Bits) of 8 codes: each code lands in the high byte of an i16 lane by
 * interleaving with zero bytes (one unpack), then one arithmetic shift and one mask leave the sign in bit 15
 * and exponent + mantissa in bits 4..10 — the upper half of the f32 bits, which one more unpack with zero
 * words completes. About 10 instructions per 16 codes, where sign-extending to i32 lanes takes 17.
 */
@inline function halfBits(bytesHigh: v128): v128 {
  return v128.and(i16x8.shr_s(bytesHigh, 4), i16x8.splat(<i16>0x87f0));
}

@inline function lowCodes(v: v128): v128 {
  return halfBits(i8x16.shuffle(i8x16.splat(0), v, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
}

@inline function highCodes(v: v128): v128 {
  return halfBits(i8x16.shuffle(i8x16.splat(0), v, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31));
}

/** f32 bits of lanes 0..3 / 4..7 of halfBits h (value · 2^-120). */
@inline function bitsLow(h: v128): v128 {
  return i16x8.shuffle(i16x8.splat(0), h, 0, 8, 1, 9, 2, 10, 3, 11);
}

@inline function bitsHigh(h: v128): v128 {
  return i16x8.shuffle(i16x8.splat(0), h, 4, 12, 5, 13, 6, 14, 7, 15);
}

/** Dequantized weights: the bits times sc = splat(scale · 2^120). */
@inline function dequantLow(h: v128, sc: v128): v128 {
  return f32x4.mul(bitsLow(h), sc);
}

@inline function dequantHigh(h: v128, sc: v128): v128 {
  return f32x4.mul(bitsHigh(h), sc);
}

@inline function madd(acc: v128, a: v128, b: v128): v128 {
  return f32x4.add(acc, f32x4.mul(a, b));
}

/** The weight of one code with the block's scale: bits · 2^120 is exact, then one rounding (any scale). */
@inline function weightOf(code: i32, scale: f32): f32 {
  return reinterpret<f32>(e4m3Bits(code)) * E4M3_RESCALE * scale;
}

/** scale · 2^120 overflows from 2^8 on (|w| ≥ 114688): such blocks take the per-code path. */
@inline function hugeScale(scale: f32): bool {
  return !(Mathf.abs(scale) < 256);
}

/** One row (row: codes, srow: its block row of scales) · x over cols. */
function dotRowFp8(row: usize, srow: usize, x: usize, cols: i32, bc: i32): f32 {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let tail: f32 = 0;
  for (let c0 = 0, kb = 0; c0 < cols; c0 += bc, kb++) {
    const c1 = min(cols, c0 + bc), scale = load<f32>(srow + (<usize>kb << 2));
    let c = c0;
    if (!hugeScale(scale)) {
      const sc = f32x4.splat(scale * E4M3_RESCALE);
      for (; c + 16 <= c1; c += 16) {
        const v = v128.load(row + <usize>c), xp = x + (<usize>c << 2);
        const lo = lowCodes(v), hi = highCodes(v);
        a0 = madd(a0, dequantLow(lo, sc), v128.load(xp));
        a1 = madd(a1, dequantHigh(lo, sc), v128.load(xp, 16));
        a2 = madd(a2, dequantLow(hi, sc), v128.load(xp, 32));
        a3 = madd(a3, dequantHigh(hi, sc), v128.load(xp, 48));
      }
    }
    for (; c < c1; c++) tail += weightOf(load<u8>(row + <usize>c), scale) * load<f32>(x + (<usize>c << 2));
  }
  return hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3))) + tail;
}

/** dst[cols] = the row's dequantized weights. */
function decodeRow(dst: usize, row: usize, srow: usize, cols: i32, bc: i32): void {
  for (let c0 = 0, kb = 0; c0 < cols; c0 += bc, kb++) {
    const c1 = min(cols, c0 + bc), scale = load<f32>(srow + (<usize>kb << 2));
    let c = c0;
    if (!hugeScale(scale)) {
      const sc = f32x4.splat(scale * E4M3_RESCALE);
      for (; c + 16 <= c1; c += 16) {
        const v = v128.load(row + <usize>c), o = dst + (<usize>c << 2);
        const lo = lowCodes(v), hi = highCodes(v);
        v128.store(o, dequantLow(lo, sc));
        v128.store(o, dequantHigh(lo, sc), 16);
        v128.store(o, dequantLow(hi, sc), 32);
        v128.store(o, dequantHigh(hi, sc), 48);
      }
    }
    for (; c < c1; c++) store<f32>(dst + (<usize>c << 2), weightOf(load<u8>(row + <usize>c), scale));
  }
}

/** The scales of row r's block row. */
@inline function scaleRow(s: usize, r: i32, br: i32, nbc: i32): usize {
  return s + (<usize>((r / br) * nbc) << 2);
}

/** x · scale · 2^120 per column block, for one block row of W: the weights' bits then multiply it directly. */
/** The folded x of one block row: 32 KiB of static memory (below __heap_base), enough for DeepSeek's hidden 7168. */
const FOLD_CAP = 8192;
const folded = memory.data(FOLD_CAP << 2, 16);

/** xf[c] = x[c] · s[c / bc] · 2^120 for one block row of scales. */
function foldX(xf: usize, x: usize, srow: usize, cols: i32, bc: i32): void {
  for (let c0 = 0, kb = 0; c0 < cols; c0 += bc, kb++) {
    const scale = load<f32>(srow + (<usize>kb << 2)) * E4M3_RESCALE, sc = f32x4.splat(scale), c1 = min(cols, c0 + bc);
    let c = c0;
    for (; c + 4 <= c1; c += 4) v128.store(xf + (<usize>c << 2), f32x4.mul(v128.load(x + (<usize>c << 2)), sc));
    for (; c < c1; c++) store<f32>(xf + (<usize>c << 2), load<f32>(x + (<usize>c << 2)) * scale);
  }
}

/** One row against the folded x: the weights' bits multiply x' directly. */
function dotRowFolded(row: usize, xf: usize, cols: i32): f32 {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let c = 0;
  for (; c + 16 <= cols; c += 16) {
    const v = v128.load(row + <usize>c), xp = xf + (<usize>c << 2);
    const lo = lowCodes(v), hi = highCodes(v);
    a0 = madd(a0, bitsLow(lo), v128.load(xp));
    a1 = madd(a1, bitsHigh(lo), v128.load(xp, 16));
    a2 = madd(a2, bitsLow(hi), v128.load(xp, 32));
    a3 = madd(a3, bitsHigh(hi), v128.load(xp, 48));
  }
  let tail: f32 = 0;
  for (; c < cols; c++) tail += reinterpret<f32>(e4m3Bits(load<u8>(row + <usize>c))) * load<f32>(xf + (<usize>c << 2));
  return hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3))) + tail;
}

/** out[rows] = W · x[cols], W FP8 [rows, cols] with scales s (br × bc blocks). */
export function matvec_fp8(out: usize, w: usize, s: usize, x: usize, rows: i32, cols: i32, br: i32, bc: i32): void {
  const nbc = (cols + bc - 1) / bc;
  let amax: f32 = 0;
  for (let c = 0; c < cols; c++) amax = Mathf.max(amax, Mathf.abs(load<f32>(x + (<usize>c << 2))));
  for (let r0 = 0; r0 < rows; r0 += br) {
    const srow = scaleRow(s, r0, br, nbc), r1 = min(rows, r0 + br);
    let smax: f32 = 0;
    for (let kb = 0; kb < nbc; kb++) smax = Mathf.max(smax, Mathf.abs(load<f32>(srow + (<usize>kb << 2))));
    // x' ≤ amax · smax · 2^120 stays finite below 2^127; a NaN in x fails the test and takes the plain path.
    if (cols <= FOLD_CAP && amax * smax < 128) {
      foldX(folded, x, srow, cols, bc);
      for (let r = r0; r < r1; r++) store<f32>(out + (<usize>r << 2), dotRowFolded(w + <usize>r * <usize>cols, folded, cols));
    } else {
      for (let r = r0; r < r1; r++) store<f32>(out + (<usize>r << 2), dotRowFp8(w + <usize>r * <usize>cols, srow, x, cols, bc));
    }
  }
}

/** Tokens per chunk: their x rows (about 256 KiB) stay cache-resident while W streams once per chunk. */
@inline function tokenChunk(cols: i32): i32 {
  return max(2, (65536 / max(cols, 1)) & ~1);
}

/**
 * out[n, rows] = x[n, cols] · Wᵀ; scratch: 4 · cols f32. One token: the fused matvec. Up to 4 tokens
 * (memory-bound): one dequantized row at a time against token pairs. More: 4 dequantized rows × 2 tokens tiles.
 */
export function matmul_fp8(out: usize, w: usize, s: usize, x: usize, scratch: usize, rows: i32, cols: i32, n: i32, br: i32, bc: i32): void {
  if (n == 1) {
    matvec_fp8(out, w, s, x, rows, cols, br, bc);
    return;
  }
  const nbc = (cols + bc - 1) / bc;
  const stride = <usize>cols << 2, outStride = <usize>rows << 2;
  const few = n <= 4;
  const chunk = few ? n : tokenChunk(cols);
  for (let t0 = 0; t0 < n; t0 += chunk) {
    const tEnd = min(n, t0 + chunk);
    let r = 0;
    if (!few) {
      for (; r + 4 <= rows; r += 4) {
        for (let i = 0; i < 4; i++) decodeRow(scratch + <usize>i * stride, w + <usize>(r + i) * <usize>cols, scaleRow(s, r + i, br, nbc), cols, bc);
        const o = out + (<usize>r << 2);
        let t = t0;
        for (; t + 2 <= tEnd; t += 2) {
          const oa = o + <usize>t * outStride;
          dot4x2(oa, oa + outStride, scratch, stride, x + <usize>t * stride, x + <usize>(t + 1) * stride, cols);
        }
        if (t < tEnd) dot4(o + <usize>t * outStride, scratch, stride, x + <usize>t * stride, cols);
      }
    }
    for (; r < rows; r++) {
      decodeRow(scratch, w + <usize>r * <usize>cols, scaleRow(s, r, br, nbc), cols, bc);
      const o = out + (<usize>r << 2);
      let t = t0;
      for (; t + 2 <= tEnd; t += 2) {
        const oa = o + <usize>t * outStride;
        dot1x2(oa, oa + outStride, scratch, x + <usize>t * stride, x + <usize>(t + 1) * stride, cols);
      }
      if (t < tEnd) store<f32>(o + <usize>t * outStride, dot1(scratch, x + <usize>t * stride, cols));
    }
  }
}
