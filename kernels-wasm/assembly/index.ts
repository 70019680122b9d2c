// Entry of the kernels module: every op as an f32x4 SIMD kernel (`matvec`) and its scalar twin
// (`matvec_scalar`). Pointers are byte offsets into the exported memory; the host's arena starts at heapBase().
export * from './scalar';
export { matvec, matmul } from './simd-matvec';
export { rmsnorm, softmax, swiglu, add, rope } from './simd-vector';
export { attention } from './simd-attention';
import { vexp } from './simd-math';

/** First free byte after static data: where the host's bump arena starts. */
export function heapBase(): usize {
  return __heap_base;
}

/** Test hook: x[i] = vexp(x[i]) for n % 4 == 0, so tests can measure the vector expf's accuracy. */
export function exp_f32x4(x: usize, n: i32): void {
  for (let j: usize = 0; j < (<usize>n << 2); j += 16) v128.store(x + j, vexp(v128.load(x + j)));
}

/** Test hook: x[i] = Mathf.exp(x[i]), the scalar expf the twins use. */
export function exp_scalar(x: usize, n: i32): void {
  for (let j: usize = 0; j < (<usize>n << 2); j += 4) store<f32>(x + j, Mathf.exp(load<f32>(x + j)));
}
