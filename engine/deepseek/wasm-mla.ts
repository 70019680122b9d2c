// Multi-head Latent Attention on the WASM kernels, n tokens at once, each of its own sequence (slot) and
// position: batched projections (each weight read once for all n), then per token: YaRN rope from a
// per-position table, its slot's cache row (kv_norm(c_kv) and k_pe), and the absorbed attention over that
// slot's rows 0..its own position (so a step equals every sequence decoded alone, up to f32 rounding).
import type { KernelBackend } from '../../kernels-wasm/types';
import type { DeepSeekConfig } from './config';
import type { MlaDims } from './mla';
import { ropeAngles, ropeAttentionFactor, ropeInvFreq } from './rope';
import { linearForward, type DeepSeekKit } from './wasm-linear';
import type { WasmMlaWeights } from './wasm-weights';

export interface WasmMlaCache {
  kv: number; // [maxT, latent] kv_norm(c_kv)
  pe: number; // [maxT, rope] k_pe, rotated
}

/** Where each token of a step belongs: its slot (whose cache it reads and writes) and its position. */
export interface StepTokens {
  slot: Int32Array; // [maxBatch]
  pos: Int32Array; // [maxBatch]
}

export interface MlaBuffers {
  qLat: number; // [n, qLoraRank]
  q: number; // [n, H·(nope+rope)]
  kvA: number; // [n, latent + rope]
  qNope: number; // [H·nope]
  qPe: number; // [H·rope]
  attnOut: number; // [n, H·v]
  attn: number; // mla_attention scratch [2·H·latent + H·maxT]
  cos: number; // [maxT, rope/2]
  sin: number; // [maxT, rope/2]
  lin: number; // FP8 prefill scratch
}

export function createMlaCache(mem: KernelBackend, d: MlaDims, maxT: number): WasmMlaCache {
  return { kv: mem.alloc(maxT * d.latent), pe: mem.alloc(maxT * d.rope) };
}

/** Buffers, and the rope table of every position (YaRN frequencies and attention factor, from f64). */
export function createMlaBuffers(
  mem: KernelBackend,
  c: DeepSeekConfig,
  d: MlaDims,
  maxBatch: number,
  maxT: number,
  lin: number,
): MlaBuffers {
  const H = d.heads,
    half = d.rope / 2;
  const b: MlaBuffers = {
    qLat: mem.alloc(maxBatch * (c.qLoraRank ?? 0)),
    q: mem.alloc(maxBatch * H * (d.nope + d.rope)),
    kvA: mem.alloc(maxBatch * (d.latent + d.rope)),
    qNope: mem.alloc(H * d.nope),
    qPe: mem.alloc(H * d.rope),
    attnOut: mem.alloc(maxBatch * H * d.v),
    attn: mem.alloc(2 * H * d.latent + H * maxT),
    cos: mem.alloc(maxT * half),
    sin: mem.alloc(maxT * half),
    lin,
  };
  const invFreq = ropeInvFreq(d.rope, c.ropeTheta, c.ropeScaling),
    factor = ropeAttentionFactor(c.ropeScaling);
  const cos = new Float64Array(half),
    sin = new Float64Array(half);
  const cosAll = new Float32Array(maxT * half),
    sinAll = new Float32Array(maxT * half);
  for (let pos = 0; pos < maxT; pos++) {
    ropeAngles(pos, invFreq, factor, cos, sin);
    cosAll.set(cos, pos * half);
    sinAll.set(sin, pos * half);
  }
  mem.write(b.cos, cosAll);
  mem.write(b.sin, sinAll);
  return b;
}

/**
 * MLA of x[n, hidden] (normed), token t at position tok.pos[t] of slot tok.slot[t]: writes their cache rows
 * in caches[slot] (this layer's), attends, and leaves o_proj's output in out[n, hidden]. Tokens of one slot
 * come in position order, so a prefill chunk attends to its own earlier rows. heap: an f32 view of memory.
 */
export function wasmMlaForward(
  kit: DeepSeekKit,
  heap: Float32Array,
  out: number,
  x: number,
  n: number,
  tok: StepTokens,
  w: WasmMlaWeights,
  caches: readonly WasmMlaCache[],
  d: MlaDims,
  eps: number,
  scale: number,
  b: MlaBuffers,
): void {
  const { k, ds } = kit,
    H = d.heads,
    qk = d.nope + d.rope,
    C = d.latent,
    half = d.rope / 2;
  if (w.qA && w.qB) {
    linearForward(kit, b.qLat, w.qA, x, n, b.lin); // [n, qLoraRank]
    for (let t = 0; t < n; t++)
      k.rmsnorm(b.qLat + 4 * t * w.qA.rows, b.qLat + 4 * t * w.qA.rows, w.qANorm, w.qA.rows, eps);
    linearForward(kit, b.q, w.qB, b.qLat, n, b.lin); // [n, H·qk]
  } else {
    linearForward(kit, b.q, w.q!, x, n, b.lin);
  }
  linearForward(kit, b.kvA, w.kvA, x, n, b.lin); // [n, latent | rope]

  for (let t = 0; t < n; t++) {
    const pos = tok.pos[t],
      cache = caches[tok.slot[t]],
      cos = b.cos + 4 * pos * half,
      sin = b.sin + 4 * pos * half;
    const qt = b.q + 4 * t * H * qk,
      kvt = b.kvA + 4 * t * (C + d.rope);
    ds.ropePairs(qt + 4 * d.nope, H, qk, d.rope, cos, sin);
    ds.ropePairs(kvt + 4 * C, 1, 0, d.rope, cos, sin);
    k.rmsnorm(cache.kv + 4 * pos * C, kvt, w.kvANorm, C, eps); // cache row: kv_norm(c_kv)
    heap.copyWithin((cache.pe >> 2) + pos * d.rope, (kvt >> 2) + C, (kvt >> 2) + C + d.rope); // cache row: k_pe
    for (let h = 0; h < H; h++) {
      const q = (qt >> 2) + h * qk;
      heap.copyWithin((b.qNope >> 2) + h * d.nope, q, q + d.nope);
      heap.copyWithin((b.qPe >> 2) + h * d.rope, q + d.nope, q + qk);
    }
    ds.mlaAttention(
      b.attnOut + 4 * t * H * d.v,
      b.qNope,
      b.qPe,
      w.kvB,
      cache.kv,
      cache.pe,
      b.attn,
      H,
      d.nope,
      d.rope,
      d.v,
      C,
      pos + 1,
      scale,
    ); // [H·v]
  }
  linearForward(kit, out, w.o, b.attnOut, n, b.lin); // [n, hidden]
}
