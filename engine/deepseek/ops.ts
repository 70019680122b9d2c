// Plain reference ops over typed arrays with explicit shapes, the scalar twins that fast kernels are
// checked against. Matrices are row-major; W[rows, cols] maps x[cols] to out[rows]. Sums run in float64.

export type Vec = Float32Array | Float64Array;

/** out[n] = x[n] / sqrt(mean(x²) + eps) · weight[n]; out may alias x. */
export function rmsNorm(out: Vec, x: Vec, weight: Vec, n: number, eps: number): void {
  let ss = 0;
  for (let i = 0; i < n; i++) ss += x[i] * x[i];
  const inv = 1 / Math.sqrt(ss / n + eps);
  for (let i = 0; i < n; i++) out[i] = x[i] * inv * weight[i];
}

/** out[rows] = W[rows, cols] · x[cols] */
export function matvec(out: Vec, w: Vec, x: Vec, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    const row = r * cols;
    for (let c = 0; c < cols; c++) sum += w[row + c] * x[c];
    out[r] = sum;
  }
}

export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** In place: gate[i] = silu(gate[i]) · up[i] (SwiGLU). */
export function swiglu(gate: Vec, up: Vec, n: number): void {
  for (let i = 0; i < n; i++) gate[i] = silu(gate[i]) * up[i];
}

/** In place, max subtracted for stability. */
export function softmax(x: Vec, n: number): void {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, x[i]);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    x[i] = Math.exp(x[i] - max);
    sum += x[i];
  }
  for (let i = 0; i < n; i++) x[i] /= sum;
}

/** Index of the largest of x[0..n); the lowest index wins ties. */
export function argmax(x: Vec, n: number = x.length): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (x[i] > x[best]) best = i;
  return best;
}
