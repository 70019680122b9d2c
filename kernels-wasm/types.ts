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
  rope(q: number, k: number, nHeads: number, nKvHeads: number, headDim: number, pos: number, theta: number): void;
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
    out: number, q: number, kCache: number, vCache: number, att: number,
    nHeads: number, nKvHeads: number, headDim: number, nPos: number,
  ): void;
}

export interface KernelBackend extends KernelOps {
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
