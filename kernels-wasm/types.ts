// The contract between the engine and a kernel backend (WASM-SIMD now, scalar twin, WebGPU later).
// Every pointer is a byte offset into the backend's linear memory; every length counts f32 elements.
// Matrices are row-major. Nothing here allocates per call: buffers come from `alloc` once per session.

export interface KernelOps {
  /** out[rows] = W[rows, cols] · x[cols] */
  matvec(out: number, w: number, x: number, rows: number, cols: number): void;
  /** out[n, rows] = x[n, cols] · W[rows, cols]ᵀ — n tokens at once (batched prefill). */
  matmul(out: number, w: number, x: number, rows: number, cols: number, n: number): void;
  /** out[n] = x[n] / sqrt(mean(x²) + eps) * weight[n]; out may alias x. */
  rmsnorm(out: number, x: number, weight: number, n: number, eps: number): void;
  /**
   * Rotary embedding, llama2.c (interleaved pairs) layout, in place on q[nHeads*headDim] and
   * k[nKvHeads*headDim]: pair (2i, 2i+1) of each head turns by pos * theta^(-2i/headDim).
   */
  rope(
    q: number,
    k: number,
    nHeads: number,
    nKvHeads: number,
    headDim: number,
    pos: number,
    theta: number,
  ): void;
  /** In place, numerically stable (max subtracted). */
  softmax(x: number, n: number): void;
  /** In place: a[i] = silu(a[i]) * b[i]. */
  swiglu(a: number, b: number, n: number): void;
  /** In place: a[i] += b[i]. */
  add(a: number, b: number, n: number): void;
  /**
   * Causal attention of one query token over nPos cached positions, grouped-query heads.
   * q[nHeads*headDim], kCache/vCache[nPos, nKvHeads*headDim] (one layer, position-major),
   * att[nHeads*nPos] scratch, out[nHeads*headDim]. Head h reads kv head h / (nHeads/nKvHeads).
   * Scores are scaled by 1/sqrt(headDim).
   */
  attention(
    out: number,
    q: number,
    kCache: number,
    vCache: number,
    att: number,
    nHeads: number,
    nKvHeads: number,
    headDim: number,
    nPos: number,
  ): void;
}

export interface KernelBackend extends KernelOps, KernelBackendExtras {
  /** Scalar reference twins of every op, same memory, same signatures. */
  readonly scalar: KernelOps;
  /** Reserve n f32 (16-byte aligned, zeroed); returns the byte pointer. Arena: never freed. */
  alloc(nFloats: number): number;
  /** A Float32Array view of [ptr, ptr + len*4). Views die when memory grows: take them after allocating. */
  f32(ptr: number, len: number): Float32Array;
  /** Copy host data into the backend's memory at ptr. */
  write(ptr: number, data: Float32Array): void;
  /** Bytes of linear memory in use (for reports). */
  readonly bytesUsed: number;
}

/**
 * Matrix × vector/tokens with quantized weights; layouts and packers in kernels-wasm/quant.ts.
 * Q8_0/Q4_0 (GGUF semantics, group 32, f16 scales `d`): the activations are quantized to int8 per 32 values
 * into `xq` (quantScratchBytes(cols, n) bytes) and dotted in integers. FP8: E4M3 codes [rows, cols] with one
 * f32 scale_inv per blockRows × blockCols block (DeepSeek-V3), times f32 activations.
 */
export interface QuantOps {
  /** out[rows] = W · x[cols] */
  matvecQ8(
    out: number,
    w: number,
    d: number,
    x: number,
    xq: number,
    rows: number,
    cols: number,
  ): void;
  /** out[n, rows] = x[n, cols] · Wᵀ */
  matmulQ8(
    out: number,
    w: number,
    d: number,
    x: number,
    xq: number,
    rows: number,
    cols: number,
    n: number,
  ): void;
  matvecQ4(
    out: number,
    w: number,
    d: number,
    x: number,
    xq: number,
    rows: number,
    cols: number,
  ): void;
  matmulQ4(
    out: number,
    w: number,
    d: number,
    x: number,
    xq: number,
    rows: number,
    cols: number,
    n: number,
  ): void;
  matvecFp8(
    out: number,
    w: number,
    scales: number,
    x: number,
    rows: number,
    cols: number,
    blockRows: number,
    blockCols: number,
  ): void;
  /** scratch: 4 · cols f32 (dequantized rows). */
  matmulFp8(
    out: number,
    w: number,
    scales: number,
    x: number,
    scratch: number,
    rows: number,
    cols: number,
    n: number,
    blockRows: number,
    blockCols: number,
  ): void;
}

/** The DeepSeek-V3 ops (engine/deepseek/ holds their float64 references). f32 unless noted. */
export interface DeepSeekOps {
  /**
   * MLA absorbed decode attention of one query over nPos cached latents: out[H·v], qNope[H·nope],
   * qPe[H·rope] (rotated), kvB[H·(nope+v), latent] (per head W_UK rows then W_UV rows), kv[nPos, latent],
   * pe[nPos, rope]; scratch: 2·H·latent + H·nPos f32.
   */
  mlaAttention(
    out: number,
    qNope: number,
    qPe: number,
    kvB: number,
    kv: number,
    pe: number,
    scratch: number,
    heads: number,
    nope: number,
    rope: number,
    vDim: number,
    latent: number,
    nPos: number,
    scale: number,
  ): void;
  /**
   * Router of one token: logits[E], bias[E] (0: none) → idx i32[topK], weight[topK]. method: 0 greedy,
   * 1 group_limited_greedy, 2 noaux_tc. scratch: 2·E + 2·nGroup f32 and max(E, nGroup) bytes.
   */
  moeRoute(
    idx: number,
    weight: number,
    logits: number,
    bias: number,
    scratch: number,
    nExperts: number,
    topK: number,
    nGroup: number,
    topkGroup: number,
    method: number,
    sigmoid: boolean,
    normTopk: boolean,
    scaling: number,
  ): void;
  /** Groups entries t·topK + slot of idx i32[nTokens, topK] by expert: offsets i32[E+1], order i32[nTokens·topK]. */
  moePlan(
    offsets: number,
    order: number,
    idx: number,
    nTokens: number,
    topK: number,
    nExperts: number,
  ): void;
  /** dst[i] = x[order[start+i] / topK] for i < count (rows of cols). */
  moeGather(
    dst: number,
    x: number,
    order: number,
    start: number,
    count: number,
    topK: number,
    cols: number,
  ): void;
  /** out[order[start+i] / topK] += weight[order[start+i]] · y[i] for i < count. */
  moeScatterAdd(
    out: number,
    y: number,
    order: number,
    weight: number,
    start: number,
    count: number,
    topK: number,
    cols: number,
  ): void;
  /** In place, `count` vectors `stride` floats apart: pair (2i, 2i+1) of the first dim turns by cos[i], sin[i]. */
  ropePairs(x: number, count: number, stride: number, dim: number, cos: number, sin: number): void;
}

/**
 * The int8 KV cache (engine/llama/kv-cache.ts): codes i8 [nPos, nKvHeads*headDim] and one f32 scale per
 * position and kv head [nPos, nKvHeads], symmetric (scale = amax/127, codes nearest(x/scale) in ±127).
 */
export interface Kv8Ops {
  /** codes[g*group..] and scales[g] of `groups` groups of `group` floats of x. */
  quantizeKv8(codes: number, scales: number, x: number, groups: number, group: number): void;
  /** KernelOps.attention over int8 K and V: the same math on the dequantized cache. */
  attentionKv8(
    out: number,
    q: number,
    kCodes: number,
    kScales: number,
    vCodes: number,
    vScales: number,
    att: number,
    nHeads: number,
    nKvHeads: number,
    headDim: number,
    nPos: number,
  ): void;
}

export interface Kv8Backend extends Kv8Ops {
  readonly scalar: Kv8Ops;
}

/**
 * Batched decode (kernels-wasm/assembly/simd-matvecs.ts): out[n, rows] = x[n, cols] · Wᵀ where token t's row
 * is bit-identical to matvec / matvecQ8 / matvecQ4 of x[t] alone (unlike matmul, which rounds in another order),
 * with W read once for all n. xq: quantScratchBytes(cols, n) bytes.
 */
export interface MatvecsOps {
  matvecs(out: number, w: number, x: number, rows: number, cols: number, n: number): void;
  matvecsQ8(
    out: number,
    w: number,
    d: number,
    x: number,
    xq: number,
    rows: number,
    cols: number,
    n: number,
  ): void;
  matvecsQ4(
    out: number,
    w: number,
    d: number,
    x: number,
    xq: number,
    rows: number,
    cols: number,
    n: number,
  ): void;
}

export interface MatvecsBackend extends MatvecsOps {
  readonly scalar: MatvecsOps;
}

/**
 * Q4_0 repacked at load, one i32 lane per row (kernels-wasm/assembly/q4x8.ts): `packQ4x8` rewrites a ggml-order
 * Q4_0 matrix (codes w, f16 scales d; rows % 8 == 0) in place through `scratch` (q4x8ScratchBytes(cols)), after
 * which the matrix is read only by these ops. Token t of matmulQ4x8 is bit-identical to matvecQ4x8 of x[t]
 * (so it serves batched decode too); both round in another order than matvecQ4 (the block's exact integer sum,
 * scaled once). xq: quantScratchBytes(cols, n) bytes.
 */
export interface Q4x8Ops {
  matvecQ4x8: QuantOps['matvecQ4'];
  matmulQ4x8: QuantOps['matmulQ4'];
}

export interface Q4x8Backend extends Q4x8Ops {
  readonly scalar: Q4x8Ops;
  /** Repacks a Q4_0 matrix in place (its byte size unchanged). */
  packQ4x8(w: number, d: number, rows: number, cols: number, scratch: number): void;
  /** Whether the relaxed-SIMD kernels are bound (the plain ones run slower than matvecQ4 on row-major Q4_0). */
  readonly relaxed: boolean;
}

/**
 * BF16 weights [rows, cols] (2 bytes each, the checkpoint's bits) × f32 activations
 * (kernels-wasm/assembly/simd-bf16.ts): widening BF16 to f32 is exact, so matvecBf16 is bit-identical to
 * matvec over the widened matrix and matmulBf16 to matmul for n ≤ 4 (its few-token path, at any n).
 */
export interface Bf16Ops {
  matvecBf16(out: number, w: number, x: number, rows: number, cols: number): void;
  matmulBf16(out: number, w: number, x: number, rows: number, cols: number, n: number): void;
}

export interface Bf16Backend extends Bf16Ops {
  readonly scalar: Bf16Ops;
}

export interface QuantBackend extends QuantOps {
  readonly scalar: QuantOps;
}

export interface DeepSeekBackend extends DeepSeekOps {
  readonly scalar: DeepSeekOps;
}

/** Optional parts a backend may offer beyond KernelBackend (the WASM backend has them all). */
export interface KernelBackendExtras {
  readonly quant?: QuantBackend;
  readonly deepseek?: DeepSeekBackend;
  readonly kv8?: Kv8Backend;
  /** Batched decode; absent from older builds and the TS backend (the engine then runs one matvec per token). */
  readonly matvecs?: MatvecsBackend;
  /** BF16 projections; absent from older builds and the TS backend (the engine widens BF16 to f32 then). */
  readonly bf16?: Bf16Backend;
  /**
   * The samplers' softmax (engine/sampling/sampler.ts softmaxF32) over x[0, n) in place, bit for bit
   * (kernels-wasm/assembly/softmax-runc.ts); returns the sum. Absent from older builds and the TS backend.
   */
  readonly softmaxRunC?: (x: number, n: number) => number;
  /** Σ exp(x[i] - max) in index order, in f64: logprobs.ts logSumExp's sum, bit for bit (same file). */
  readonly expSumRunC?: (x: number, n: number, max: number) => number;
  /**
   * The speculative sampler's untruncated distribution (spec-sampler.ts), bit for bit (same file): x ÷ t and
   * softmax in place, out (f64) = x / mass over x > 0; returns the mass.
   */
  readonly specDistribution?: (x: number, n: number, t: number, out: number) => number;
  /** Q4_0 repacked for one lane per row; absent from older builds and the TS backend. */
  readonly q4x8?: Q4x8Backend;
  /** A byte view of [ptr, ptr + len) (quantized weights, i32 index arrays). Dies when memory grows. */
  bytes?(ptr: number, len: number): Uint8Array;
}
