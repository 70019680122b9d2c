// Scalar reference twins of every kernel (STYLE #5): plain loops in llama2.c's order of operations,
// so they are obviously correct and reproduce its float32 rounding. The SIMD kernels are tested against these.
import { ropeAngle, ropeCos, ropeSin, silu } from './math';

export function matvec_scalar(out: usize, w: usize, x: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = w + (<usize>r * <usize>cols << 2);
    let sum: f32 = 0;
    for (let j = 0; j < cols; j++) sum += load<f32>(row + (<usize>j << 2)) * load<f32>(x + (<usize>j << 2));
    store<f32>(out + (<usize>r << 2), sum);
  }
}

export function matmul_scalar(out: usize, w: usize, x: usize, rows: i32, cols: i32, n: i32): void {
  for (let t = 0; t < n; t++) {
    matvec_scalar(out + (<usize>t * <usize>rows << 2), w, x + (<usize>t * <usize>cols << 2), rows, cols);
  }
}

export function rmsnorm_scalar(out: usize, x: usize, weight: usize, n: i32, eps: f32): void {
  let ss: f32 = 0;
  for (let j = 0; j < n; j++) {
    const v = load<f32>(x + (<usize>j << 2));
    ss += v * v;
  }
  ss /= <f32>n;
  ss += eps;
  ss = <f32>1 / Mathf.sqrt(ss);
  for (let j = 0; j < n; j++) {
    const o = <usize>j << 2;
    store<f32>(out + o, load<f32>(weight + o) * (ss * load<f32>(x + o)));
  }
}

/** Turns pair (2i, 2i+1) of one head vector by (c, s). */
@inline function rotatePair(p: usize, c: f32, s: f32): void {
  const v0 = load<f32>(p);
  const v1 = load<f32>(p, 4);
  store<f32>(p, v0 * c - v1 * s);
  store<f32>(p, v0 * s + v1 * c, 4);
}

export function rope_scalar(q: usize, k: usize, nHeads: i32, nKvHeads: i32, headDim: i32, pos: i32, theta: f32): void {
  for (let i = 0; i < headDim; i += 2) {
    ropeAngle(i, headDim, pos, theta);
    const c = ropeCos;
    const s = ropeSin;
    for (let h = 0; h < nHeads; h++) rotatePair(q + (<usize>(h * headDim + i) << 2), c, s);
    for (let h = 0; h < nKvHeads; h++) rotatePair(k + (<usize>(h * headDim + i) << 2), c, s);
  }
}

export function softmax_scalar(x: usize, n: i32): void {
  let max = load<f32>(x);
  for (let i = 1; i < n; i++) max = Mathf.max(max, load<f32>(x + (<usize>i << 2)));
  let sum: f32 = 0;
  for (let i = 0; i < n; i++) {
    const p = x + (<usize>i << 2);
    const e = Mathf.exp(load<f32>(p) - max);
    store<f32>(p, e);
    sum += e;
  }
  for (let i = 0; i < n; i++) {
    const p = x + (<usize>i << 2);
    store<f32>(p, load<f32>(p) / sum);
  }
}

export function swiglu_scalar(a: usize, b: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(a + o, silu(load<f32>(a + o)) * load<f32>(b + o));
  }
}

export function add_scalar(a: usize, b: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(a + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

export function attention_scalar(
  out: usize, q: usize, kCache: usize, vCache: usize, att: usize,
  nHeads: i32, nKvHeads: i32, headDim: i32, nPos: i32,
): void {
  const kvDim = nKvHeads * headDim;
  const group = nHeads / nKvHeads;
  const scale = Mathf.sqrt(<f32>headDim);
  for (let h = 0; h < nHeads; h++) {
    const qh = q + (<usize>(h * headDim) << 2);
    const kvOff = (h / group) * headDim;
    const ah = att + (<usize>(h * nPos) << 2);
    for (let t = 0; t < nPos; t++) {
      const kt = kCache + (<usize>(t * kvDim + kvOff) << 2);
      let score: f32 = 0;
      for (let d = 0; d < headDim; d++) score += load<f32>(qh + (<usize>d << 2)) * load<f32>(kt + (<usize>d << 2));
      store<f32>(ah + (<usize>t << 2), score / scale);
    }
    softmax_scalar(ah, nPos);
    const oh = out + (<usize>(h * headDim) << 2);
    memory.fill(oh, 0, <usize>headDim << 2);
    for (let t = 0; t < nPos; t++) {
      const vt = vCache + (<usize>(t * kvDim + kvOff) << 2);
      const a = load<f32>(ah + (<usize>t << 2));
      for (let d = 0; d < headDim; d++) {
        const p = oh + (<usize>d << 2);
        store<f32>(p, load<f32>(p) + a * load<f32>(vt + (<usize>d << 2)));
      }
    }
  }
}
