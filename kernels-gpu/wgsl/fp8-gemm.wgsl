// FP8 block-scaled GEMM for many tokens (prefill, large batches): same math as fp8-gemv,
//   out[m, n] (+)= Σ_kb (Σ_{k in block kb} xq[m, k] · w[n, k]) · xs[m, kb] · ws[n / 128, kb],
// register-blocked: each invocation owns a 4-token × 4-row tile (4 | 128, so its rows share one scale
// row), sums each 128-wide block of the tile in f32, then scales. No workgroup memory, no barriers
// (measured faster on llvmpipe than shared-memory tiling). Workgroup 8 × 8 tiles = 32 tokens × 32 rows.

struct Params {
  rows: u32,        // tokens M
  n: u32,           // output features N
  k: u32,           // input features K, a multiple of 16
  kBlocks: u32,     // ceil(K / 128)
  accumulate: u32,  // 1: out += result, 0: out = result
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<vec4<u32>>;      // [N, K/16] E4M3 codes
@group(0) @binding(2) var<storage, read> ws: array<f32>;           // [ceil(N/128), kBlocks]
@group(0) @binding(3) var<storage, read> xq: array<vec4<f32>>;     // [M, K/4] E4M3 values
@group(0) @binding(4) var<storage, read> xs: array<f32>;           // [M, kBlocks]
@group(0) @binding(5) var<storage, read_write> out: array<f32>;    // [M, N]

// The four E4M3 codes of a word (byte 0 first) as f32 values · 2^-8: each code's sign goes to bit 15 and
// its exponent and mantissa to bits 13..7 of an f16, which then reads as the E4M3 value · 2^-8 (f16's
// exponent bias is 15, E4M3's 7), subnormals included. Exact; callers fold the 2^8 into the block scale.
// The NaN codes (0x7F, 0xFF) never occur in weights.
fn e4m3x4(word: u32) -> vec4<f32> {
  let even = word & 0x00FF00FFu; // bytes 0 and 2
  let odd = (word >> 8u) & 0x00FF00FFu; // bytes 1 and 3
  let a = unpack2x16float(((even & 0x00800080u) << 8u) | ((even & 0x007F007Fu) << 7u));
  let b = unpack2x16float(((odd & 0x00800080u) << 8u) | ((odd & 0x007F007Fu) << 7u));
  return vec4<f32>(a.x, b.x, a.y, b.y);
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n0 = gid.x * 4u;
  let m0 = gid.y * 4u;
  if (n0 >= p.n || m0 >= p.rows) {
    return;
  }
  let vecsPerRow = p.k / 16u;
  let k4 = p.k / 4u;
  // Clamped indices: tail rows/tokens read valid memory and are not written.
  var nr: array<u32, 4>;
  var mr: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) {
    nr[i] = min(n0 + i, p.n - 1u) * vecsPerRow;
    mr[i] = min(m0 + i, p.rows - 1u);
  }
  let sRow = (n0 / 128u) * p.kBlocks;
  var acc: array<vec4<f32>, 4>; // [token i] . [row j]
  for (var kb = 0u; kb < p.kBlocks; kb++) {
    var bd = array<vec4<f32>, 4>(); // explicit: llvmpipe keeps an uninitialized loop-local var across iterations
    let v1 = min(kb * 8u + 8u, vecsPerRow);
    for (var v = kb * 8u; v < v1; v++) {
      let r0 = w[nr[0] + v];
      let r1 = w[nr[1] + v];
      let r2 = w[nr[2] + v];
      let r3 = w[nr[3] + v];
      for (var s = 0u; s < 4u; s++) {
        let a = e4m3x4(r0[s]);
        let b = e4m3x4(r1[s]);
        let c = e4m3x4(r2[s]);
        let d = e4m3x4(r3[s]);
        for (var i = 0u; i < 4u; i++) {
          let x = xq[mr[i] * k4 + v * 4u + s];
          bd[i] += vec4<f32>(dot(a, x), dot(b, x), dot(c, x), dot(d, x));
        }
      }
    }
    let wScale = ws[sRow + kb] * 256.0; // e4m3x4 yields values · 2^-8
    for (var i = 0u; i < 4u; i++) {
      acc[i] += bd[i] * xs[mr[i] * p.kBlocks + kb] * wScale;
    }
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + i;
    if (m >= p.rows) {
      break;
    }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + j;
      if (n < p.n) {
        let o = m * p.n + n;
        out[o] = select(acc[i][j], out[o] + acc[i][j], p.accumulate != 0u);
      }
    }
  }
}
