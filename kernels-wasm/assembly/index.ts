// Entry of the kernels module: every op as a SIMD kernel (`matvec`) and its scalar twin (`matvec_scalar`).
// Pointers are byte offsets into the exported memory; the host's arena starts at heapBase().
export * from './scalar';

/** First free byte after static data: where the host's bump arena starts. */
export function heapBase(): usize {
  return __heap_base;
}

// Placeholder until the SIMD kernels land: the main names run the scalar twins.
export {
  matvec_scalar as matvec, matmul_scalar as matmul, rmsnorm_scalar as rmsnorm, rope_scalar as rope,
  softmax_scalar as softmax, swiglu_scalar as swiglu, add_scalar as add, attention_scalar as attention,
} from './scalar';
