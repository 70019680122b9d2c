// Multi-head Latent Attention, reference form. Per token: q from a low-rank path (q_a_proj →
// q_a_layernorm → q_b_proj) or a plain q_proj; kv_a_proj_with_mqa gives the latent c_kv[kvLoraRank]
// and one shared rope key k_pe[rope]; kv_b_proj (per head: W_UK [nope, C] rows then W_UV [v, C] rows)
// expands the normed latent into per-head keys and values.
//
// Two equivalent attention forms over a position-major cache of one layer:
// - naive: cache full k [T, H, nope+rope] and v [T, H, v];
// - absorbed (decode): cache only kv_norm(c_kv) [T, C] and k_pe [T, rope]; fold W_UK into the query
//   (q_lat = q_nope · W_UK) and W_UV into the output (o = (p · c_kv) · W_UVᵀ).
import { linear, type Linear, type LinearScratch } from './linear';
import { rmsNorm, softmax, type Vec } from './ops';
import { applyRope } from './rope';

export interface MlaDims {
  heads: number;
  nope: number;
  rope: number;
  v: number;
  /** kv_lora_rank: width of the latent c_kv. */
  latent: number;
}

export interface MlaWeights {
  /** Low-rank query path, or null when the checkpoint has a plain q_proj. */
  qA: Linear | null;
  qANorm: Float32Array | null;
  qB: Linear | null;
  q: Linear | null;
  kvA: Linear;
  kvANorm: Float32Array;
  /** kv_b_proj dequantized to f32 [heads·(nope+v), latent]: both forms read it directly. */
  kvB: Float32Array;
  o: Linear;
}

export type MlaCache =
  | { kind: 'absorbed'; kv: Float64Array /* [maxT, latent] */; pe: Float64Array /* [maxT, rope] */ }
  | {
      kind: 'naive';
      k: Float64Array /* [maxT, heads·(nope+rope)] */;
      v: Float64Array; /* [maxT, heads·v] */
    };

export function createMlaCache(kind: MlaCache['kind'], d: MlaDims, maxT: number): MlaCache {
  return kind === 'absorbed'
    ? { kind, kv: new Float64Array(maxT * d.latent), pe: new Float64Array(maxT * d.rope) }
    : {
        kind,
        k: new Float64Array(maxT * d.heads * (d.nope + d.rope)),
        v: new Float64Array(maxT * d.heads * d.v),
      };
}

/**
 * Naive attention of one query over T cached positions.
 * out[H·v], q[H·(nope+rope)], k[T, H·(nope+rope)], v[T, H·v], att[T] scratch.
 */
export function mlaNaiveAttention(
  out: Vec,
  q: Vec,
  k: Vec,
  v: Vec,
  T: number,
  d: MlaDims,
  scale: number,
  att: Float64Array,
): void {
  const qk = d.nope + d.rope;
  for (let h = 0; h < d.heads; h++) {
    for (let t = 0; t < T; t++) {
      let s = 0;
      for (let i = 0; i < qk; i++) s += q[h * qk + i] * k[(t * d.heads + h) * qk + i];
      att[t] = s * scale;
    }
    softmax(att, T);
    for (let j = 0; j < d.v; j++) {
      let s = 0;
      for (let t = 0; t < T; t++) s += att[t] * v[(t * d.heads + h) * d.v + j];
      out[h * d.v + j] = s;
    }
  }
}

/**
 * Absorbed attention of one query over T cached latents.
 * out[H·v], qNope[H·nope], qPe[H·rope] (rotated), kvB[H·(nope+v), C], kv[T, C], pe[T, rope];
 * scratch: qLat[C], oLat[C], att[T].
 */
export function mlaAbsorbedAttention(
  out: Vec,
  qNope: Vec,
  qPe: Vec,
  kvB: Float32Array,
  kv: Vec,
  pe: Vec,
  T: number,
  d: MlaDims,
  scale: number,
  s: { qLat: Float64Array; oLat: Float64Array; att: Float64Array },
): void {
  const C = d.latent,
    per = d.nope + d.v;
  for (let h = 0; h < d.heads; h++) {
    s.qLat.fill(0);
    for (let i = 0; i < d.nope; i++) {
      const qi = qNope[h * d.nope + i],
        row = (h * per + i) * C;
      for (let c = 0; c < C; c++) s.qLat[c] += qi * kvB[row + c];
    }
    for (let t = 0; t < T; t++) {
      let sc = 0;
      for (let c = 0; c < C; c++) sc += s.qLat[c] * kv[t * C + c];
      for (let r = 0; r < d.rope; r++) sc += qPe[h * d.rope + r] * pe[t * d.rope + r];
      s.att[t] = sc * scale;
    }
    softmax(s.att, T);
    s.oLat.fill(0);
    for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) s.oLat[c] += s.att[t] * kv[t * C + c];
    for (let j = 0; j < d.v; j++) {
      const row = (h * per + d.nope + j) * C;
      let o = 0;
      for (let c = 0; c < C; c++) o += s.oLat[c] * kvB[row + c];
      out[h * d.v + j] = o;
    }
  }
}

/** Naive cache row from a latent: k[H·(nope+rope)] = [W_UK·c ; k_pe] per head, v[H·v] = W_UV·c. */
export function mlaExpandKv(
  k: Vec,
  v: Vec,
  kvNorm: Vec,
  kPe: Vec,
  kvB: Float32Array,
  d: MlaDims,
): void {
  const C = d.latent,
    per = d.nope + d.v,
    qk = d.nope + d.rope;
  for (let h = 0; h < d.heads; h++) {
    for (let i = 0; i < per; i++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += kvB[(h * per + i) * C + c] * kvNorm[c];
      if (i < d.nope) k[h * qk + i] = s;
      else v[h * d.v + i - d.nope] = s;
    }
    for (let r = 0; r < d.rope; r++) k[h * qk + d.nope + r] = kPe[r];
  }
}

/** Scratch of one MLA call, allocated once per session. */
export interface MlaScratch {
  qLat: Float64Array; // [qLoraRank]
  q: Float64Array; // [H·(nope+rope)]
  qNope: Float64Array; // [H·nope]
  qPe: Float64Array; // [H·rope]
  kvA: Float64Array; // [latent + rope]
  kvNorm: Float64Array; // [latent]
  attnOut: Float64Array; // [H·v]
  absorbed: { qLat: Float64Array; oLat: Float64Array; att: Float64Array }; // [latent], [latent], [maxT]
  cos: Float64Array; // [rope/2]
  sin: Float64Array; // [rope/2]
  lin: LinearScratch;
}

/**
 * One token through MLA at position pos (cos/sin already set for pos): writes its cache row at pos,
 * attends over rows 0..pos, and leaves o_proj's output in out[hidden]. x is the normed hidden state.
 */
export function mlaForward(
  out: Vec,
  x: Vec,
  pos: number,
  w: MlaWeights,
  cache: MlaCache,
  d: MlaDims,
  eps: number,
  scale: number,
  s: MlaScratch,
): void {
  const qk = d.nope + d.rope,
    C = d.latent;
  if (w.qA && w.qANorm && w.qB) {
    linear(s.qLat, w.qA, x, s.lin); // [qLoraRank]
    rmsNorm(s.qLat, s.qLat, w.qANorm, w.qA.rows, eps);
    linear(s.q, w.qB, s.qLat, s.lin); // [H·(nope+rope)]
  } else {
    linear(s.q, w.q!, x, s.lin);
  }
  for (let h = 0; h < d.heads; h++) applyRope(s.q, h * qk + d.nope, d.rope, s.cos, s.sin);

  linear(s.kvA, w.kvA, x, s.lin); // [latent | rope]
  applyRope(s.kvA, C, d.rope, s.cos, s.sin);
  const kPe = s.kvA.subarray(C, C + d.rope);
  rmsNorm(s.kvNorm, s.kvA, w.kvANorm, C, eps);

  if (cache.kind === 'absorbed') {
    cache.kv.set(s.kvNorm, pos * C);
    cache.pe.set(kPe, pos * d.rope);
    for (let h = 0; h < d.heads; h++) {
      s.qNope.set(s.q.subarray(h * qk, h * qk + d.nope), h * d.nope);
      s.qPe.set(s.q.subarray(h * qk + d.nope, (h + 1) * qk), h * d.rope);
    }
    mlaAbsorbedAttention(
      s.attnOut,
      s.qNope,
      s.qPe,
      w.kvB,
      cache.kv,
      cache.pe,
      pos + 1,
      d,
      scale,
      s.absorbed,
    );
  } else {
    const kRow = cache.k.subarray(pos * d.heads * qk, (pos + 1) * d.heads * qk);
    const vRow = cache.v.subarray(pos * d.heads * d.v, (pos + 1) * d.heads * d.v);
    mlaExpandKv(kRow, vRow, s.kvNorm, kPe, w.kvB, d);
    mlaNaiveAttention(s.attnOut, s.q, cache.k, cache.v, pos + 1, d, scale, s.absorbed.att);
  }
  linear(out, w.o, s.attnOut, s.lin); // [hidden]
}
