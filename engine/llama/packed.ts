// Q4_0 matrices repacked for the kernels at load (kernels-wasm/assembly/q4x8.ts): once the weights sit in
// backend memory, every Q4_0 matrix whose rows come in whole groups of 8 is rewritten in place into the
// row-interleaved q4x8 layout, which the relaxed-SIMD kernels decode ~1.5× faster than row-major Q4_0 (one i32
// lane per row: no horizontal sums, a quarter of the scale work; bench/RESULTS.md, sixth session). The bytes
// keep their size, so a 128 MB isolate holds no second copy. Only where the relaxed kernels are bound: the plain
// SIMD q4x8 kernel is slower than matvecQ4 on row-major codes (Node 20's kernels.wasm keeps row-major).
import { q4x8ScratchBytes } from '../../kernels-wasm/quant';
import type { KernelBackend } from '../../kernels-wasm/types';
import type { DeviceMatrix, DeviceWeights } from './forward';

/** Whether a [rows, cols] matrix has the q4x8 layout's shape: rows in whole groups of 8, whole 32-blocks. */
export const q4x8Shape = (rows: number, cols: number) => rows % 8 === 0 && cols % 32 === 0;

/** Whether `w` can be repacked: Q4_0 of the q4x8 shape. */
export const packableQ4 = (w: DeviceMatrix) => w.format === 'q4' && q4x8Shape(w.rows, w.cols);

/**
 * Repacks every packable Q4_0 matrix of `w` in place and marks it 'q4x8' (a shared classifier once: it is the
 * embedding's object). Returns how many matrices changed. `force` packs on a backend without the relaxed
 * kernels too (tests of the plain kernels).
 */
export function packWeights(k: KernelBackend, w: DeviceWeights, force = false): number {
  const q = k.q4x8;
  if (!q || !(q.relaxed || force)) return 0;
  const matrices = new Set<DeviceMatrix>([
    w.tokenEmbedding,
    w.wcls,
    ...w.layers.flatMap((l) => [l.wq, l.wk, l.wv, l.wo, l.w1, l.w2, l.w3]),
  ]);
  const todo = [...matrices].filter(packableQ4);
  if (!todo.length) return 0;
  const scratch = k.alloc(Math.ceil(q4x8ScratchBytes(Math.max(...todo.map((m) => m.cols))) / 4));
  for (const m of todo) {
    q.packQ4x8(m.data, m.scales, m.rows, m.cols, scratch);
    m.format = 'q4x8';
  }
  return todo.length;
}

/**
 * Row i (0..7) of one q4x8 row group, dequantized into out[cols] (the embedding lookup): `codes` are the
 * group's nb · 128 bytes, `scales` its nb · 8 f16. The row's nibbles sit in 4-byte chunks at a stride of 32
 * bytes inside each 128-byte block, its scale at slot i; values as the row-major Q4_0 lookup gives them.
 */
export function dequantizeQ4x8Row(
  codes: Uint8Array,
  scales: Uint16Array,
  i: number,
  out: Float32Array,
  f16: (h: number) => number,
): void {
  const nb = scales.length / 8,
    lane = ((i >> 2) << 4) + ((i & 3) << 2);
  for (let b = 0; b < nb; b++) {
    const base = b * 128 + lane,
      d = f16(scales[b * 8 + i]);
    for (let c = 0; c < 4; c++)
      for (let j = 0; j < 4; j++) {
        const byte = codes[base + c * 32 + j];
        out[b * 32 + 4 * c + j] = ((byte & 15) - 8) * d;
        out[b * 32 + 16 + 4 * c + j] = ((byte >> 4) - 8) * d;
      }
  }
}
