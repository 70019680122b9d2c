// The WASM backend of the DeepSeek forward: which kernel set it runs on (the SIMD kernels, or every op's
// scalar twin — the same forward either way), and a projection held in WASM memory, f32, BF16 (the head, as
// V3 ships it: 2 bytes per weight, the same products as f32) or FP8 E4M3 with its block scales (kept in FP8:
// 1 byte per weight), applied to n tokens at once.
import type {
  Bf16Ops,
  DeepSeekOps,
  KernelBackend,
  KernelOps,
  QuantOps,
} from '../../kernels-wasm/types';

export interface DeepSeekKit {
  /** Memory: the arena and views. */
  mem: KernelBackend;
  k: KernelOps;
  q: QuantOps;
  ds: DeepSeekOps;
  /** BF16 projections, where the build has them. */
  bf16?: Bf16Ops;
}

export function deepSeekKit(b: KernelBackend, variant: 'simd' | 'scalar' = 'simd'): DeepSeekKit {
  if (!b.quant || !b.deepseek || !b.bytes)
    throw new Error(
      'the DeepSeek forward needs the WASM kernels (quant and deepseek ops, byte views)',
    );
  return variant === 'simd'
    ? { mem: b, k: b, q: b.quant, ds: b.deepseek, bf16: b.bf16 }
    : { mem: b, k: b.scalar, q: b.quant.scalar, ds: b.deepseek.scalar, bf16: b.bf16?.scalar };
}

export type WasmLinear =
  | { kind: 'f32'; rows: number; cols: number; w: number }
  | { kind: 'bf16'; rows: number; cols: number; w: number }
  | { kind: 'fp8'; rows: number; cols: number; w: number; scales: number; block: [number, number] };

/** out[n, rows] = x[n, cols] · Wᵀ. scratch: 4 · cols f32 (FP8 prefill dequantizes rows into it). */
export function linearForward(
  kit: DeepSeekKit,
  out: number,
  lin: WasmLinear,
  x: number,
  n: number,
  scratch: number,
): void {
  const { rows, cols } = lin;
  if (lin.kind === 'f32') {
    if (n === 1) kit.k.matvec(out, lin.w, x, rows, cols);
    else kit.k.matmul(out, lin.w, x, rows, cols, n);
  } else if (lin.kind === 'bf16') {
    if (!kit.bf16)
      throw new Error('a BF16 projection needs the BF16 kernels (rebuild kernels-wasm)');
    if (n === 1) kit.bf16.matvecBf16(out, lin.w, x, rows, cols);
    else kit.bf16.matmulBf16(out, lin.w, x, rows, cols, n);
  } else {
    const [br, bc] = lin.block;
    if (n === 1) kit.q.matvecFp8(out, lin.w, lin.scales, x, rows, cols, br, bc);
    else kit.q.matmulFp8(out, lin.w, lin.scales, x, scratch, rows, cols, n, br, bc);
  }
}

/** Copies f32 data into a fresh allocation; returns its pointer. */
export function placeF32(mem: KernelBackend, data: Float32Array): number {
  const p = mem.alloc(data.length);
  mem.write(p, data);
  return p;
}

/** Copies bytes into a fresh allocation; returns its pointer. */
export function placeBytes(mem: KernelBackend, data: Uint8Array): number {
  const p = mem.alloc(Math.ceil(data.byteLength / 4));
  mem.bytes!(p, data.byteLength).set(data);
  return p;
}

/** An i32 view of WASM memory (take it after the last allocation: views die when memory grows). */
export function i32View(mem: KernelBackend, ptr: number, len: number): Int32Array {
  const b = mem.bytes!(ptr, len * 4);
  return new Int32Array(b.buffer, b.byteOffset, len);
}
