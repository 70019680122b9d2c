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

// Test hooks: the int8 activation quantizer of the SIMD kernels and its scalar twin (the one the _scalar kernels use).
export { quantizeActivationsSimd as quantize_activations, quantizeActivations as quantize_activations_scalar } from './quant-common';

// Quantized weights (kernels-wasm/quant.ts packs them): Q8_0, Q4_0, FP8 E4M3 with block scales.
export { matvec_q8_0, matvec_q8_0_pairs, matmul_q8_0, matvec_q4_0, matmul_q4_0 } from './simd-quant';
export { matvec_fp8, matmul_fp8 } from './simd-fp8';
// Q4_0 repacked at load, one i32 lane per row (q4x8.ts); kernels-relaxed.wasm adds the relaxed-dot versions.
export {
  pack_q4_0x8, matvec_q4_0x8, matmul_q4_0x8, matvec_q4_0x8_scalar, matmul_q4_0x8_scalar,
} from './q4x8';
// BF16 weights (a head kept as the checkpoint ships it), bit-identical to matvec / matmul's few-token path.
export { matvec_bf16, matmul_bf16, matvec_bf16_scalar, matmul_bf16_scalar } from './simd-bf16';
// Batched decode: n matvecs against one W, each token bit-identical to the matvec (twins: the matmul _scalar ones).
export { matvecs, matvecs_q8_0, matvecs_q4_0 } from './simd-matvecs';
export {
  matvec_q8_0_scalar, matmul_q8_0_scalar, matvec_q4_0_scalar, matmul_q4_0_scalar, matvec_fp8_scalar, matmul_fp8_scalar,
} from './quant-scalar';

// The int8 KV cache (engine/llama/kv-cache.ts): per-head quantization of K/V rows, attention over the codes.
export { quantize_kv8, attention_kv8 } from './simd-kv8';
export { quantize_kv8_scalar, attention_kv8_scalar } from './kv8-scalar';

// DeepSeek-V3 ops: MLA absorbed attention, router, MoE dispatch, rope from a table.
export { mla_attention } from './simd-mla';
export { mla_attention_scalar } from './deepseek-scalar';
export { moe_route, moe_plan, moe_gather, moe_scatter_add, moe_scatter_add_scalar, rope_pairs } from './moe';

// Benchmark-only exports (bench/quant.ts, bench/workerd-kernels.ts): machine limits, the float-dequant alternatives, the bounds-check probe.
export { bench_read, bench_peak_f32, bench_peak_dot, bench_matvec_q8_0_deq, bench_matvec_q4_0_deq, bench_loads_i32, bench_loads_v128, bench_alu } from './bench';
export { softmax_runc, exp_sum_runc, spec_distribution } from './softmax-runc';
