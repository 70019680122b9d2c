// Entry of kernels-relaxed.wasm (built with --enable relaxed-simd): every export of index.ts plus the
// relaxed-SIMD kernels (relaxed-quant.ts). Hosts load it only where WebAssembly.validate accepts it.
export * from './index';
export { matvec_q8_0_relaxed } from './relaxed-quant';
export { matvec_q4_0_relaxed } from './relaxed-q4';
export { matmul_q4_0_relaxed } from './relaxed-q4-matmul';
// Benchmark-only (bench/quant.ts --fma): the FMA peak and an FMA f32 matmul tile.
export { bench_peak_fma, bench_matmul_fma } from './relaxed-bench';
export { matvec_q4_0x8_relaxed, matmul_q4_0x8_relaxed } from './relaxed-q4x8';
