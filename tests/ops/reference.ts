// Float64 plain references of every kernel op: the ground truth the conformance table measures against.
// Inputs are the float32 values the backends saw; every intermediate stays in float64.
type Arr = ArrayLike<number>;

export function refMatvec(w: Arr, x: Arr, rows: number, cols: number, xOff = 0): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += w[r * cols + j] * x[xOff + j];
    out[r] = s;
  }
  return out;
}

export function refMatmul(w: Arr, x: Arr, rows: number, cols: number, n: number): Float64Array {
  const out = new Float64Array(n * rows);
  for (let t = 0; t < n; t++) out.set(refMatvec(w, x, rows, cols, t * cols), t * rows);
  return out;
}

export function refRmsnorm(x: Arr, weight: Arr, n: number, eps: number): Float64Array {
  let ss = 0;
  for (let j = 0; j < n; j++) ss += x[j] * x[j];
  const inv = 1 / Math.sqrt(ss / n + eps);
  return Float64Array.from({ length: n }, (_, j) => weight[j] * x[j] * inv);
}

/** Rotates pairs (2i, 2i+1) of each of `heads` vectors by pos * theta^(-2i/headDim). */
export function refRope(
  v: Arr,
  heads: number,
  headDim: number,
  pos: number,
  theta: number,
): Float64Array {
  const out = Float64Array.from(v as ArrayLike<number>);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < headDim; i += 2) {
      const angle = pos * Math.pow(theta, -i / headDim);
      const c = Math.cos(angle),
        s = Math.sin(angle),
        p = h * headDim + i;
      out[p] = v[p] * c - v[p + 1] * s;
      out[p + 1] = v[p] * s + v[p + 1] * c;
    }
  }
  return out;
}

export function refSoftmax(x: Arr, n: number, off = 0): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, x[off + i]);
  const out = Float64Array.from({ length: n }, (_, i) => Math.exp(x[off + i] - max));
  const sum = out.reduce((a, b) => a + b, 0);
  return out.map((e) => e / sum);
}

export function refSwiglu(a: Arr, b: Arr, n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => (a[i] / (1 + Math.exp(-a[i]))) * b[i]);
}

export function refAdd(a: Arr, b: Arr, n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => a[i] + b[i]);
}

export interface AttentionShape {
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  nPos: number;
}

export function refAttention(q: Arr, k: Arr, v: Arr, s: AttentionShape): Float64Array {
  const { nHeads, nKvHeads, headDim, nPos } = s;
  const kvDim = nKvHeads * headDim,
    group = nHeads / nKvHeads;
  const out = new Float64Array(nHeads * headDim);
  for (let h = 0; h < nHeads; h++) {
    const kvOff = Math.floor(h / group) * headDim;
    const scores = new Float64Array(nPos);
    for (let t = 0; t < nPos; t++) {
      let dot = 0;
      for (let d = 0; d < headDim; d++) dot += q[h * headDim + d] * k[t * kvDim + kvOff + d];
      scores[t] = dot / Math.sqrt(headDim);
    }
    const p = refSoftmax(scores, nPos);
    for (let t = 0; t < nPos; t++) {
      for (let d = 0; d < headDim; d++) out[h * headDim + d] += p[t] * v[t * kvDim + kvOff + d];
    }
  }
  return out;
}
