// The int8 KV cache: rows quantized symmetric per head (one f32 scale per headDim values, codes ±127),
// and attention reading those codes directly, a quarter of the f32 cache's bytes per position.
// Layout of one layer: codes [nPos, nKvHeads*headDim] i8, scales [nPos, nKvHeads] f32, position-major
// like the f32 cache (simd-attention.ts), so K and V each stream sequentially.
// quantize_kv8 is bit-identical to its scalar twin (max is exact, the same f32 ops per value); so are
// attention_kv8's scores (integer dots of i16 q with the int8 keys); its softmax and V sums round in the
// SIMD order, within the conformance table's tolerance of the twin.
import { softmax } from './simd-vector';

@inline function madd(acc: v128, a: v128, b: v128): v128 {
  return f32x4.add(acc, f32x4.mul(a, b));
}

/** codes[g*group ..] = nearest(x * 127/amax), scales[g] = amax/127, for `groups` groups of `group` values. */
export function quantize_kv8(codes: usize, scales: usize, x: usize, groups: i32, group: i32): void {
  const end4 = <usize>(group & ~3) << 2, end = <usize>group << 2;
  for (let g = 0; g < groups; g++) {
    const xg = x + ((<usize>g * <usize>group) << 2), cg = codes + <usize>g * <usize>group;
    let m = f32x4.splat(0);
    let j: usize = 0;
    for (; j < end4; j += 16) m = f32x4.max(m, f32x4.abs(v128.load(xg + j)));
    let amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
    for (; j < end; j += 4) amax = max(amax, abs(load<f32>(xg + j)));
    store<f32>(scales + (<usize>g << 2), amax / 127);
    const inv: f32 = amax > 0 ? <f32>127 / amax : 0;
    const iv = f32x4.splat(inv), lim = i32x4.splat(127), neg = i32x4.splat(-127);
    j = 0;
    for (; j < end4; j += 16) {
      const c = i32x4.max_s(neg, i32x4.min_s(lim, i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(xg + j), iv)))));
      const h = i16x8.narrow_i32x4_s(c, c);
      const b = i8x16.narrow_i16x8_s(h, h); // lanes 0..3: the four codes
      store<u32>(cg + (j >> 2), i32x4.extract_lane(b, 0));
    }
    for (; j < end; j += 4) {
      const c = min(127, max(-127, <i32>nearest<f32>(load<f32>(xg + j) * inv)));
      store<i8>(cg + (j >> 2), <i8>c);
    }
  }
}

/**
 * q's heads as i16 codes (per head: s = amax/32767, codes nearest(q/s)) into qi, scales into qs: the scores
 * become exact integer dots with the int8 keys (i32x4.dot_i16x8_s), then one convert and two scales.
 * The i16 rounding adds ~1e-10 relative error, far under the int8 keys' own.
 */
@inline function quantizeQ16(qi: usize, qs: usize, q: usize, nHeads: i32, headDim: i32): void {
  for (let h = 0; h < nHeads; h++) {
    const qh = q + ((<usize>h * <usize>headDim) << 2), ih = qi + ((<usize>h * <usize>headDim) << 1);
    let amax: f32 = 0;
    for (let j = 0; j < headDim; j++) amax = max(amax, abs(load<f32>(qh + (<usize>j << 2))));
    store<f32>(qs + (<usize>h << 2), amax / 32767);
    const inv: f32 = amax > 0 ? <f32>32767 / amax : 0;
    for (let j = 0; j < headDim; j++) store<i16>(ih + (<usize>j << 1), <i16>(<i32>nearest<f32>(load<f32>(qh + (<usize>j << 2)) * inv)));
  }
}

/** Σ qi[j] · code[j] (i16 · i8) over n values, exact in i32: |Σ| ≤ n · 32767 · 127 < 2^31 for n ≤ 512. */
@inline function dotCodes(qi: usize, c: usize, n: i32): i32 {
  let acc = i32x4.splat(0);
  const end8 = n & ~7;
  let j = 0;
  for (; j < end8; j += 8) acc = i32x4.add(acc, i32x4.dot_i16x8_s(v128.load(qi + (<usize>j << 1)), v128.load8x8_s(c + <usize>j)));
  let sum = i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
  for (; j < n; j++) sum += <i32>load<i16>(qi + (<usize>j << 1)) * <i32>load<i8>(c + <usize>j);
  return sum;
}

/** Four int8 codes at p as f32x4 (a 4-byte load, no read past them). */
@inline function codes4(p: usize): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(i16x8.extend_low_i8x16_s(v128.load32_zero(p))));
}

/** y[0..n) += a0·code0 + a1·code1 + a2·code2 + a3·code3 (four positions' codes, rowBytes apart), y loaded once per 8. */
@inline function axpyCodes4(y: usize, a0: f32, a1: f32, a2: f32, a3: f32, c0: usize, rowBytes: usize, n: i32): void {
  const v0 = f32x4.splat(a0), v1 = f32x4.splat(a1), v2 = f32x4.splat(a2), v3 = f32x4.splat(a3);
  const c1 = c0 + rowBytes, c2 = c1 + rowBytes, c3 = c2 + rowBytes;
  const end8 = n & ~7, end4 = n & ~3;
  let j = 0;
  for (; j < end8; j += 8) {
    const yj = y + (<usize>j << 2), o = <usize>j;
    const w0 = v128.load8x8_s(c0 + o), w1 = v128.load8x8_s(c1 + o), w2 = v128.load8x8_s(c2 + o), w3 = v128.load8x8_s(c3 + o);
    let lo = v128.load(yj), hi = v128.load(yj, 16);
    lo = madd(lo, v0, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(w0)));
    hi = madd(hi, v0, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(w0)));
    lo = madd(lo, v1, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(w1)));
    hi = madd(hi, v1, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(w1)));
    lo = madd(lo, v2, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(w2)));
    hi = madd(hi, v2, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(w2)));
    lo = madd(lo, v3, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(w3)));
    hi = madd(hi, v3, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(w3)));
    v128.store(yj, lo);
    v128.store(yj, hi, 16);
  }
  for (; j < end4; j += 4) {
    const yj = y + (<usize>j << 2), o = <usize>j;
    v128.store(yj, madd(madd(madd(madd(v128.load(yj), v0, codes4(c0 + o)), v1, codes4(c1 + o)), v2, codes4(c2 + o)), v3, codes4(c3 + o)));
  }
  for (; j < n; j++) {
    const p = y + (<usize>j << 2), o = <usize>j;
    store<f32>(p, load<f32>(p) + a0 * <f32>load<i8>(c0 + o) + a1 * <f32>load<i8>(c1 + o) + a2 * <f32>load<i8>(c2 + o) + a3 * <f32>load<i8>(c3 + o));
  }
}

/** y[0..n) += a · code[0..n). */
@inline function axpyCodes(y: usize, a: f32, c: usize, n: i32): void {
  const av = f32x4.splat(a);
  const end4 = n & ~3;
  let j = 0;
  for (; j < end4; j += 4) {
    const yj = y + (<usize>j << 2);
    v128.store(yj, madd(v128.load(yj), av, codes4(c + <usize>j)));
  }
  for (; j < n; j++) {
    const p = y + (<usize>j << 2);
    store<f32>(p, load<f32>(p) + a * <f32>load<i8>(c + <usize>j));
  }
}

/**
 * attention() over an int8 cache: score[h][t] = ((qi_h · kCodes[t][kvh]) · qs_h · kScales[t][kvh]) / sqrt(headDim)
 * with q in i16 (quantizeQ16), softmax per head, out_h = Σ_t (att[h][t] · vScales[t][kvh]) · vCodes[t][kvh], four
 * positions per pass over out. q's i16 codes and scales are staged in `out` (4·nHeads·headDim bytes, overwritten
 * after the scores), so out must not alias q. headDim ≤ 512 (the i32 dot's range).
 */
export function attention_kv8(
  out: usize, q: usize, kCodes: usize, kScales: usize, vCodes: usize, vScales: usize, att: usize,
  nHeads: i32, nKvHeads: i32, headDim: i32, nPos: i32,
): void {
  const kvDim = <usize>(nKvHeads * headDim), scaleRow = <usize>nKvHeads << 2;
  const headBytes = <usize>headDim << 2, posBytes = <usize>nPos << 2;
  const group = nHeads / nKvHeads;
  const root = Mathf.sqrt(<f32>headDim);
  const qi = out, qs = out + ((<usize>nHeads * <usize>headDim) << 1);
  quantizeQ16(qi, qs, q, nHeads, headDim);
  for (let t = 0; t < nPos; t++) {
    const kt = kCodes + <usize>t * kvDim, st = kScales + <usize>t * scaleRow, at = att + (<usize>t << 2);
    for (let h = 0; h < nHeads; h++) {
      const kvh = h / group;
      const dot = dotCodes(qi + ((<usize>h * <usize>headDim) << 1), kt + <usize>(kvh * headDim), headDim);
      store<f32>(at + <usize>h * posBytes, ((<f32>dot * load<f32>(qs + (<usize>h << 2))) * load<f32>(st + (<usize>kvh << 2))) / root);
    }
  }
  for (let h = 0; h < nHeads; h++) softmax(att + <usize>h * posBytes, nPos);
  memory.fill(out, 0, <usize>nHeads * headBytes);
  let t = 0;
  for (; t + 4 <= nPos; t += 4) {
    const vt = vCodes + <usize>t * kvDim, st = vScales + <usize>t * scaleRow, at = att + (<usize>t << 2);
    for (let h = 0; h < nHeads; h++) {
      const kvh = h / group, ah = at + <usize>h * posBytes, sh = st + (<usize>kvh << 2);
      axpyCodes4(out + <usize>h * headBytes,
        load<f32>(ah) * load<f32>(sh), load<f32>(ah, 4) * load<f32>(sh + scaleRow),
        load<f32>(ah, 8) * load<f32>(sh + 2 * scaleRow), load<f32>(ah, 12) * load<f32>(sh + 3 * scaleRow),
        vt + <usize>(kvh * headDim), kvDim, headDim);
    }
  }
  for (; t < nPos; t++) {
    const vt = vCodes + <usize>t * kvDim, st = vScales + <usize>t * scaleRow, at = att + (<usize>t << 2);
    for (let h = 0; h < nHeads; h++) {
      const kvh = h / group;
      const a = load<f32>(at + <usize>h * posBytes) * load<f32>(st + (<usize>kvh << 2));
      axpyCodes(out + <usize>h * headBytes, a, vt + <usize>(kvh * headDim), headDim);
    }
  }
}
