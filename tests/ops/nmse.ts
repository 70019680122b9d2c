// The one error metric of tests and benches: normalized mean squared error (ggml test-backend-ops),
// the tolerance unit of the conformance tables, and its worst case over rows (logits per position).

/** Σ(a-b)² / Σb², b the reference; Σ(a-b)² when b is all zeros. */
export function nmse(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length)
    throw new Error(`length ${actual.length} != ${expected.length}`);
  let err = 0,
    norm = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = actual[i] - expected[i];
    err += d * d;
    norm += expected[i] * expected[i];
  }
  return norm === 0 ? err : err / norm;
}

/** The largest nmse of rows actual[p] against expected[p]. */
export function worstNmse(actual: ArrayLike<number>[], expected: ArrayLike<number>[]): number {
  let worst = 0;
  for (let p = 0; p < expected.length; p++) worst = Math.max(worst, nmse(actual[p], expected[p]));
  return worst;
}
