// FP8 activation quantization for the batched FP8 GEMM (gemm.ts), bit-exact with engine/deepseek/fp8.ts.

/**
 * fp8.ts quantizeActivationsFp8, decoded: per token and bc-wide block, scale = f32(amax / 448) (1 when
 * amax is 0) and xd = e4m3(f32(x / scale)) as an f32 value (round to nearest, ties to even; saturate
 * at ±448; below 2^-6 the grid is uniform with step 2^-9). x: [T, cols] f64 → xd [T, cols], xs [T, nkb] f32.
 */
export function quantizeFp8(xd: usize, xs: usize, x: usize, T: i32, cols: i32, bc: i32): void {
  const nkb = (cols + bc - 1) / bc;
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < nkb; b++) {
      const c0 = t * cols + b * bc, c1 = t * cols + min(cols, (b + 1) * bc);
      let amax: f64 = 0;
      for (let i = c0; i < c1; i++) amax = max(amax, abs(load<f64>(x + (<usize>i << 3))));
      const s: f32 = amax > 0 ? <f32>(amax / 448) : 1;
      store<f32>(xs + (<usize>(t * nkb + b) << 2), s);
      for (let i = c0; i < c1; i++) store<f32>(xd + (<usize>i << 2), roundE4M3(<f32>(load<f64>(x + (<usize>i << 3)) / <f64>s)));
    }
  }
}

/** The E4M3 value nearest to v (ties to even), saturated to ±448; keeps the sign of zero. */
@inline function roundE4M3(v: f32): f32 {
  const a = abs(v);
  let r: f32;
  if (a >= 448) r = 448;
  else if (a < 0.015625) r = nearest(a * 512) / 512; // subnormals: multiples of 2^-9
  else {
    // Keep 3 mantissa bits: add just under half an ulp of the kept LSB plus the LSB (ties to even), truncate.
    const u = reinterpret<u32>(a);
    r = reinterpret<f32>((u + 0x7ffff + ((u >> 20) & 1)) & 0xfff00000);
    if (r > 448) r = 448;
  }
  return v < 0 || (v == 0 && 1 / v < 0) ? -r : r;
}
