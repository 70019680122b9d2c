// Entry of kernels-relaxed.wasm (built with --enable relaxed-simd): every export of index.ts plus the
// relaxed-SIMD kernels (relaxed-quant.ts). Hosts load it only where WebAssembly.validate accepts it.
export * from './index';
export { matvec_q8_0_relaxed } from './relaxed-quant';
