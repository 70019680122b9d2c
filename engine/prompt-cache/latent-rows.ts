// Latent rows: a run of positions of an MLA model's KV cache (DeepSeek-V3's multi-head latent
// attention keeps per layer and position only the compressed latent c_kv and the shared rope key
// k_pe; keys and values are rebuilt from c_kv inside attention). The second kind of prompt-cache
// entry (latent-entry.ts) holds these, the first holds GQA GqaKvRows (kv-rows.ts).

export interface LatentShape {
  nLayers: number;
  /** Width of c_kv per position (kv_lora_rank; 512 in DeepSeek-V3). */
  kvLoraRank: number;
  /** Width of k_pe per position (qk_rope_head_dim; 64 in DeepSeek-V3). */
  ropeDim: number;
}

/** Encoders read either precision (the CPU origin keeps f64 caches); decoders give f32. */
export type LatentFloats = Float32Array | Float64Array;

export interface LatentRows<F extends LatentFloats = LatentFloats> extends LatentShape {
  /** First position held. */
  start: number;
  count: number;
  cKv: F; // [nLayers, count, kvLoraRank]
  kPe: F; // [nLayers, count, ropeDim], RoPE already applied
}

export const sameLatentShape = (a: LatentShape, b: LatentShape): boolean =>
  a.nLayers === b.nLayers && a.kvLoraRank === b.kvLoraRank && a.ropeDim === b.ropeDim;

/** Rows (layer, position) of a block: one scale each per stream in the quantized codecs. */
export const latentRowCount = (s: LatentShape, count: number): number => s.nLayers * count;
