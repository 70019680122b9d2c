// Scalar math shared by both kernel families, written to match llama2.c's libm calls in float32.

/** silu(x) = x * (1 / (1 + expf(-x))), llama2.c's exact expression. */
@inline export function silu(x: f32): f32 {
  return x * (<f32>1 / (<f32>1 + Mathf.exp(-x)));
}

// Results of ropeAngle, in wasm globals: the stub runtime's heap must stay untouched, because the
// TS binding's arena starts at __heap_base, so nothing here may allocate.
export let ropeCos: f32 = 0;
export let ropeSin: f32 = 0;

/**
 * Angle of pair index i (even, within the head) at position pos, in llama2.c's order:
 * freq = 1 / powf(theta, i / headDim); val = pos * freq; then cosf/sinf(val).
 * pow/cos/sin run in float64 and are rounded once to f32: the correctly rounded float32
 * result, which is what glibc's powf/cosf/sinf return (to within their ulp claims).
 */
export function ropeAngle(i: i32, headDim: i32, pos: i32, theta: f32): void {
  const expo: f32 = <f32>i / <f32>headDim;
  const freq: f32 = <f32>1 / <f32>Math.pow(<f64>theta, <f64>expo);
  const val: f32 = <f32>pos * freq;
  ropeCos = <f32>Math.cos(<f64>val);
  ropeSin = <f32>Math.sin(<f64>val);
}
