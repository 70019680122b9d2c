// The origin's wasm kernels (AssemblyScript, SIMD): batched projections, FP8 activation quantization,
// absorbed MLA attention. Each reproduces a reference function of engine/deepseek bit for bit.
export { gemmF32, gemmFp8 } from './gemm';
export { quantizeFp8 } from './quantize';
export { mlaAbsorbQuery, mlaScores, mlaOutput } from './mla';
