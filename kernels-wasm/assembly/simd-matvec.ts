// f32x4 matvec/matmul. matvec is memory-bound (a model's weights never fit in cache) and, without FMA in
// plain SIMD, close to instruction-bound too (~16 x64 instructions per 64 bytes of W). It reads rows r and
// r + rows/2 in one pass (dot1rows2): two DRAM streams in flight, as the Q8_0 matvec, and each x load serves
// both rows; each row's sums keep dot1's order, so the output is bit-identical to one row at a time. Measured on
// the 2-core Xeon (bench/RESULTS.md, 2026-12-07): stories110M f32 decode faster than one stream in every
// interleaved round. (On Zen 5, interleaving 4 rows to reuse x from registers halved the DRAM rate: V8 spills
// the 16 accumulators.) matmul of a few tokens is memory-bound too and
// streams rows the same way. More tokens are compute-bound: 4 rows x 2 tokens tiles, so each weight
// vector loaded serves two tokens, over token chunks whose x rows stay in L2 while each 4-row block
// of W, pulled in by one sequential read, sits in L1 for the whole chunk.
import { dot1, dot1rows2, dot1x2, dot4, dot4x2 } from './simd-dot';

export function matvec(out: usize, w: usize, x: usize, rows: i32, cols: i32): void {
  const stride = <usize>cols << 2;
  const half = rows >> 1;
  const wh = w + <usize>half * stride, oh = out + (<usize>half << 2);
  for (let r = 0; r < half; r++) {
    const o = <usize>r << 2, wr = <usize>r * stride;
    dot1rows2(out + o, oh + o, w + wr, wh + wr, x, cols);
  }
  if (rows & 1) store<f32>(out + (<usize>(rows - 1) << 2), dot1(w + <usize>(rows - 1) * stride, x, cols));
}

// Where touch() leaves its sum, so the optimizer cannot drop the loads.
let sink: v128 = f32x4.splat(0);

/**
 * Reads [p, p + bytes) once as one sequential stream (one load per 64-byte line), pulling it into cache at the full DRAM rate;
 * the 4-row tiles that follow then read it from cache (their 4 interleaved streams only get about
 * half the DRAM rate when they miss).
 */
@inline function touch(p: usize, bytes: usize): void {
  let a = f32x4.splat(0), b = a;
  let j: usize = 0;
  for (; j + 128 <= bytes; j += 128) {
    a = v128.or(a, v128.load(p + j));
    b = v128.or(b, v128.load(p + j, 64));
  }
  sink = v128.or(sink, v128.or(a, b));
}

/** Tokens per chunk: their x rows (about 256 KiB) stay cache-resident while W streams once per chunk. */
@inline function tokenChunk(cols: i32): i32 {
  return max(2, (65536 / max(cols, 1)) & ~1);
}

/** Few tokens: memory-bound like matvec, so W streams one row at a time; the row stays in L1 for them all. */
function matmulFew(out: usize, w: usize, x: usize, rows: i32, cols: i32, n: i32): void {
  const stride = <usize>cols << 2;
  const outStride = <usize>rows << 2;
  for (let r = 0; r < rows; r++) {
    const wr = w + <usize>r * stride;
    const o = out + (<usize>r << 2);
    let t = 0;
    for (; t + 2 <= n; t += 2) {
      const oa = o + <usize>t * outStride;
      dot1x2(oa, oa + outStride, wr, x + <usize>t * stride, x + <usize>(t + 1) * stride, cols);
    }
    if (t < n) store<f32>(o + <usize>t * outStride, dot1(wr, x + <usize>t * stride, cols));
  }
}

/** Up to this many tokens matmul is memory-bound (measured), and takes the row-streaming path. */
const FEW_TOKENS = 4;

export function matmul(out: usize, w: usize, x: usize, rows: i32, cols: i32, n: i32): void {
  if (n <= FEW_TOKENS) {
    matmulFew(out, w, x, rows, cols, n);
    return;
  }
  const stride = <usize>cols << 2;
  const outStride = <usize>rows << 2;
  const chunk = tokenChunk(cols);
  for (let t0 = 0; t0 < n; t0 += chunk) {
    const tEnd = min(n, t0 + chunk);
    let r = 0;
    for (; r + 4 <= rows; r += 4) {
      const wr = w + <usize>r * stride;
      const o = out + (<usize>r << 2);
      touch(wr, stride << 2);
      let t = t0;
      for (; t + 2 <= tEnd; t += 2) {
        const oa = o + <usize>t * outStride;
        dot4x2(oa, oa + outStride, wr, stride, x + <usize>t * stride, x + <usize>(t + 1) * stride, cols);
      }
      if (t < tEnd) dot4(o + <usize>t * outStride, wr, stride, x + <usize>t * stride, cols);
    }
    for (; r < rows; r++) {
      for (let t = t0; t < tEnd; t++) {
        store<f32>(out + <usize>t * outStride + (<usize>r << 2), dot1(w + <usize>r * stride, x + <usize>t * stride, cols));
      }
    }
  }
}
