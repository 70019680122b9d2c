// The quantized weight formats of a model directory. Groups of 32 along a row with one f16 scale
// each, exactly GGUF's Q8_0 and Q4_0 (so those import without loss) and exactly the layout the WASM
// kernels read (kernels-wasm/quant.ts, whose quantizers these are), so loading is a plain copy:
//   q8: `W.weight` I8 [rows, cols] + `W.scales` F16 [rows, cols/32]; w = q · d
//   q4: `W.weight` U8 [rows, cols/2] + `W.scales` F16 [rows, cols/32]; w = (q - 8) · d, where in
//       each group of 32 byte j holds element j in its low nibble and element j + 16 in its high one
//   fp8: `W.weight` F8_E4M3 + `W.weight_scale_inv` F32 per 128×128 block (DeepSeek-V3's; engine/formats/fp8.ts)
import { QK, quantizeQ4_0, quantizeQ8_0 } from '../../kernels-wasm/quant';
import { f16ToF32 } from './f16';

export const GROUP = QK;

export interface GroupQuantized {
  /** q8: int8 codes as bytes [rows, cols]; q4: two 4-bit codes per byte [rows, cols/2]. */
  q: Uint8Array;
  /** f16 bits, one per group of 32, row-major [rows, cols/32]. */
  scales: Uint16Array;
}

function checkGroups(rows: number, cols: number, n: number): void {
  if (cols % GROUP !== 0)
    throw new RangeError(`group quantization needs cols % ${GROUP} == 0, got ${cols}`);
  if (n !== rows * cols) throw new RangeError(`${n} values for [${rows}, ${cols}]`);
}

/** ggml's quantize_row_q8_0_ref: d = amax/127 (stored f16), q = roundf(x/d). */
export function quantizeQ8(x: Float32Array, rows: number, cols: number): GroupQuantized {
  checkGroups(rows, cols, x.length);
  const w = quantizeQ8_0(x, rows, cols);
  return { q: w.q, scales: w.d };
}

/** ggml's quantize_row_q4_0_ref: d = (value of largest magnitude)/-8, q = min(15, trunc(x/d + 8.5)). */
export function quantizeQ4(x: Float32Array, rows: number, cols: number): GroupQuantized {
  checkGroups(rows, cols, x.length);
  const w = quantizeQ4_0(x, rows, cols);
  return { q: w.q, scales: w.d };
}

export function dequantizeQ8(w: GroupQuantized, out = new Float32Array(w.q.length)): Float32Array {
  const codes = new Int8Array(w.q.buffer, w.q.byteOffset, w.q.byteLength);
  for (let g = 0; g < w.scales.length; g++) {
    const d = f16ToF32(w.scales[g]);
    for (let j = g * GROUP; j < (g + 1) * GROUP; j++) out[j] = codes[j] * d;
  }
  return out;
}

export function dequantizeQ4(
  w: GroupQuantized,
  out = new Float32Array(w.q.length * 2),
): Float32Array {
  const half = GROUP / 2;
  for (let g = 0; g < w.scales.length; g++) {
    const d = f16ToF32(w.scales[g]);
    for (let j = 0; j < half; j++) {
      const b = w.q[g * half + j];
      out[g * GROUP + j] = ((b & 0x0f) - 8) * d;
      out[g * GROUP + half + j] = ((b >> 4) - 8) * d;
    }
  }
  return out;
}
