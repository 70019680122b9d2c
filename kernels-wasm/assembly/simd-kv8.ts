// The int8 KV cache: rows quantized symmetric per head (one f32 scale per headDim values, codes ±127),
// and attention reading those codes directly, a quarter of the f32 cache's bytes per position.
// Layout of one layer: codes [nPos, nKvHeads*headDim] i8, scales [nPos, nKvHeads] f32, position-major
// like the f32 cache (simd-attention.ts), so K and V each stream sequentially.
// quantize_kv8 is bit-identical to its scalar twin (max is exact, the same f32 ops per value);
// attention_kv8's dots sum in lanes, so it matches its twin within the conformance table's tolerance.
import { hsum } from './simd-math';
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

/** Σ q[j] · code[j] over n values (q f32, codes i8), two accumulators of eight per step. */
@inline function dotCodes(q: usize, c: usize, n: i32): f32 {
  let s0 = f32x4.splat(0), s1 = s0;
  const end8 = n & ~7;
  let j = 0;
  for (; j < end8; j += 8) {
    const w = v128.load8x8_s(c + <usize>j);
    const qj = q + (<usize>j << 2);
    s0 = madd(s0, v128.load(qj), f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(w)));
    s1 = madd(s1, v128.load(qj, 16), f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(w)));
  }
  let sum = hsum(f32x4.add(s0, s1));
  for (; j < n; j++) sum += load<f32>(q + (<usize>j << 2)) * <f32>load<i8>(c + <usize>j);
  return sum;
}

/** y[0..n) += a · code[0..n). */
@inline function axpyCodes(y: usize, a: f32, c: usize, n: i32): void {
  const av = f32x4.splat(a);
  const end8 = n & ~7;
  let j = 0;
  for (; j < end8; j += 8) {
    const w = v128.load8x8_s(c + <usize>j);
    const yj = y + (<usize>j << 2);
    v128.store(yj, madd(v128.load(yj), av, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(w))));
    v128.store(yj, madd(v128.load(yj, 16), av, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(w))), 16);
  }
  for (; j < n; j++) {
    const p = y + (<usize>j << 2);
    store<f32>(p, load<f32>(p) + a * <f32>load<i8>(c + <usize>j));
  }
}

/**
 * attention() over an int8 cache: score[h][t] = (q_h · kCodes[t][kvh]) · kScales[t][kvh] / sqrt(headDim),
 * softmax per head, out_h = Σ_t (att[h][t] · vScales[t][kvh]) · vCodes[t][kvh].
 */
export function attention_kv8(
  out: usize, q: usize, kCodes: usize, kScales: usize, vCodes: usize, vScales: usize, att: usize,
  nHeads: i32, nKvHeads: i32, headDim: i32, nPos: i32,
): void {
  const kvDim = <usize>(nKvHeads * headDim), scaleRow = <usize>nKvHeads << 2;
  const headBytes = <usize>headDim << 2, posBytes = <usize>nPos << 2;
  const group = nHeads / nKvHeads;
  const root = Mathf.sqrt(<f32>headDim);
  for (let t = 0; t < nPos; t++) {
    const kt = kCodes + <usize>t * kvDim, st = kScales + <usize>t * scaleRow, at = att + (<usize>t << 2);
    for (let h = 0; h < nHeads; h++) {
      const kvh = h / group;
      const dot = dotCodes(q + <usize>h * headBytes, kt + <usize>(kvh * headDim), headDim);
      store<f32>(at + <usize>h * posBytes, (dot * load<f32>(st + (<usize>kvh << 2))) / root);
    }
  }
  for (let h = 0; h < nHeads; h++) softmax(att + <usize>h * posBytes, nPos);
  memory.fill(out, 0, <usize>nHeads * headBytes);
  for (let t = 0; t < nPos; t++) {
    const vt = vCodes + <usize>t * kvDim, st = vScales + <usize>t * scaleRow, at = att + (<usize>t << 2);
    for (let h = 0; h < nHeads; h++) {
      const kvh = h / group;
      const a = load<f32>(at + <usize>h * posBytes) * load<f32>(st + (<usize>kvh << 2));
      axpyCodes(out + <usize>h * headBytes, a, vt + <usize>(kvh * headDim), headDim);
    }
  }
}
