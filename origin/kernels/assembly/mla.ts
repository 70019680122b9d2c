// Absorbed MLA attention of one query token over its sequence's latent cache, split in three around
// the softmax (which needs exp, done by the host with ops.softmax): mlaAbsorbQuery folds W_UK into the
// query, mlaScores scores every cached position, mlaOutput weights the latents and applies W_UV.
// Together they are mla.ts mlaAbsorbedAttention term by term, each sum in the same order, so the
// result is bit-identical. SIMD lanes hold independent sums: latent channels, or pairs of heads.
//
// Shapes: q [H, nope+rope] (rope part already rotated), kvB [H·(nope+v), C] f32, kv [T, C], pe [T, rope],
// att [H, attStride]; qLat and qPe are scratch, [Hp/2, C, 2] and [Hp/2, rope, 2] (head pairs
// interleaved, Hp = H rounded up to even, the padding lane zeroed).

/** qLat[h, c] = Σ_i q[h, i] · kvB[h·per + i, c] (i in order), written head-pair interleaved. tmp: [C] f64. */
export function mlaAbsorbQuery(qLat: usize, tmp: usize, q: usize, kvB: usize, H: i32, nope: i32, rope: i32, v: i32, C: i32): void {
  const per = nope + v, qk = nope + rope, Hp = (H + 1) & ~1;
  for (let h = 0; h < Hp; h++) {
    const lane = <usize>(h & 1), pair = qLat + ((<usize>(h >> 1) * C * 2) << 3);
    if (h >= H) {
      for (let c = 0; c < C; c++) store<f64>(pair + ((<usize>c * 2 + lane) << 3), 0);
      continue;
    }
    memory.fill(tmp, 0, <usize>C << 3);
    for (let i = 0; i < nope; i++) {
      const qi = f64x2.splat(load<f64>(q + ((<usize>(h * qk + i)) << 3)));
      const row = kvB + ((<usize>(h * per + i) * C) << 2);
      let c = 0;
      for (; c + 2 <= C; c += 2) {
        const p = tmp + (<usize>c << 3);
        v128.store(p, f64x2.add(v128.load(p), f64x2.mul(qi, f64x2.promote_low_f32x4(v128.load64_zero(row + (<usize>c << 2))))));
      }
      if (c < C) {
        const p = tmp + (<usize>c << 3);
        store<f64>(p, load<f64>(p) + f64x2.extract_lane(qi, 0) * <f64>load<f32>(row + (<usize>c << 2)));
      }
    }
    for (let c = 0; c < C; c++) store<f64>(pair + ((<usize>c * 2 + lane) << 3), load<f64>(tmp + (<usize>c << 3)));
  }
}

/**
 * att[h, t] = (Σ_c qLat[h, c]·kv[t, c] + Σ_r qPe[h, r]·pe[t, r]) · scale for t < T: lanes are two heads,
 * four positions at a time for independent chains.
 */
export function mlaScores(
  att: usize, qLat: usize, qPe: usize, q: usize, kv: usize, pe: usize,
  H: i32, nope: i32, rope: i32, C: i32, T: i32, scale: f64, attStride: i32,
): void {
  const qk = nope + rope, Hp = (H + 1) & ~1;
  for (let h = 0; h < Hp; h++) {
    for (let r = 0; r < rope; r++) {
      store<f64>(qPe + ((<usize>((h >> 1) * rope + r) * 2 + (h & 1)) << 3), h < H ? load<f64>(q + ((<usize>(h * qk + nope + r)) << 3)) : 0);
    }
  }
  const kvRow = <usize>C << 3, peRow = <usize>rope << 3;
  for (let hp = 0; hp < Hp; hp += 2) {
    const ql = qLat + ((<usize>(hp >> 1) * C * 2) << 3), qp = qPe + ((<usize>(hp >> 1) * rope * 2) << 3);
    const a0row = att + ((<usize>hp * attStride) << 3), a1row = a0row + (<usize>attStride << 3);
    let t = 0;
    for (; t + 4 <= T; t += 4) {
      let s0 = f64x2.splat(0), s1 = s0, s2 = s0, s3 = s0;
      const k0 = kv + <usize>t * kvRow;
      for (let c = 0; c < C; c++) {
        const qv = v128.load(ql + (<usize>c << 4)), o = k0 + (<usize>c << 3);
        s0 = f64x2.add(s0, f64x2.mul(qv, v128.load64_splat(o)));
        s1 = f64x2.add(s1, f64x2.mul(qv, v128.load64_splat(o + kvRow)));
        s2 = f64x2.add(s2, f64x2.mul(qv, v128.load64_splat(o + 2 * kvRow)));
        s3 = f64x2.add(s3, f64x2.mul(qv, v128.load64_splat(o + 3 * kvRow)));
      }
      const p0 = pe + <usize>t * peRow;
      for (let r = 0; r < rope; r++) {
        const qv = v128.load(qp + (<usize>r << 4)), o = p0 + (<usize>r << 3);
        s0 = f64x2.add(s0, f64x2.mul(qv, v128.load64_splat(o)));
        s1 = f64x2.add(s1, f64x2.mul(qv, v128.load64_splat(o + peRow)));
        s2 = f64x2.add(s2, f64x2.mul(qv, v128.load64_splat(o + 2 * peRow)));
        s3 = f64x2.add(s3, f64x2.mul(qv, v128.load64_splat(o + 3 * peRow)));
      }
      storeScores(a0row, a1row, s0, t, scale, hp + 1 < H);
      storeScores(a0row, a1row, s1, t + 1, scale, hp + 1 < H);
      storeScores(a0row, a1row, s2, t + 2, scale, hp + 1 < H);
      storeScores(a0row, a1row, s3, t + 3, scale, hp + 1 < H);
    }
    for (; t < T; t++) {
      let s0 = f64x2.splat(0);
      const k0 = kv + <usize>t * kvRow, p0 = pe + <usize>t * peRow;
      for (let c = 0; c < C; c++) s0 = f64x2.add(s0, f64x2.mul(v128.load(ql + (<usize>c << 4)), v128.load64_splat(k0 + (<usize>c << 3))));
      for (let r = 0; r < rope; r++) s0 = f64x2.add(s0, f64x2.mul(v128.load(qp + (<usize>r << 4)), v128.load64_splat(p0 + (<usize>r << 3))));
      storeScores(a0row, a1row, s0, t, scale, hp + 1 < H);
    }
  }
}

@inline function storeScores(a0row: usize, a1row: usize, s: v128, t: i32, scale: f64, second: bool): void {
  store<f64>(a0row + (<usize>t << 3), f64x2.extract_lane(s, 0) * scale);
  if (second) store<f64>(a1row + (<usize>t << 3), f64x2.extract_lane(s, 1) * scale);
}

/**
 * out[h·v + j] = Σ_c oLat[c] · kvB[h·per + nope + j, c] where oLat[c] = Σ_t att[h, t] · kv[t, c] (t in
 * order). oLat: scratch [C] f64.
 */
export function mlaOutput(out: usize, att: usize, kv: usize, oLat: usize, kvB: usize, H: i32, nope: i32, v: i32, C: i32, T: i32, attStride: i32): void {
  const per = nope + v, kvRow = <usize>C << 3, rowBytes = <usize>C << 2;
  for (let h = 0; h < H; h++) {
    memory.fill(oLat, 0, kvRow);
    const ah = att + ((<usize>h * attStride) << 3);
    for (let t = 0; t < T; t++) {
      const a = v128.load64_splat(ah + (<usize>t << 3)), k = kv + <usize>t * kvRow;
      let c = 0;
      for (; c + 2 <= C; c += 2) {
        const p = oLat + (<usize>c << 3);
        v128.store(p, f64x2.add(v128.load(p), f64x2.mul(a, v128.load(k + (<usize>c << 3)))));
      }
      if (c < C) store<f64>(oLat + (<usize>c << 3), load<f64>(oLat + (<usize>c << 3)) + f64x2.extract_lane(a, 0) * load<f64>(k + (<usize>c << 3)));
    }
    const w0 = kvB + <usize>(h * per + nope) * rowBytes, o = out + ((<usize>h * v) << 3);
    let j = 0;
    for (; j + 4 <= v; j += 4) {
      const r0 = w0 + <usize>j * rowBytes, r1 = r0 + rowBytes, r2 = r1 + rowBytes, r3 = r2 + rowBytes;
      let s0: f64 = 0, s1: f64 = 0, s2: f64 = 0, s3: f64 = 0;
      for (let c = 0; c < C; c++) {
        const l = load<f64>(oLat + (<usize>c << 3)), cb = <usize>c << 2;
        s0 += l * <f64>load<f32>(r0 + cb);
        s1 += l * <f64>load<f32>(r1 + cb);
        s2 += l * <f64>load<f32>(r2 + cb);
        s3 += l * <f64>load<f32>(r3 + cb);
      }
      store<f64>(o + (<usize>j << 3), s0);
      store<f64>(o + (<usize>(j + 1) << 3), s1);
      store<f64>(o + (<usize>(j + 2) << 3), s2);
      store<f64>(o + (<usize>(j + 3) << 3), s3);
    }
    for (; j < v; j++) {
      const r = w0 + <usize>j * rowBytes;
      let s: f64 = 0;
      for (let c = 0; c < C; c++) s += load<f64>(oLat + (<usize>c << 3)) * <f64>load<f32>(r + (<usize>c << 2));
      store<f64>(o + (<usize>j << 3), s);
    }
  }
}
