// FP8 block-scaled GEMV for up to 8 tokens (decode): weights stay E4M3, 4 codes per u32, with one
// weight_scale_inv per 128×128 block; activations come from fp8-quantize (E4M3 values + 1×128 scales).
//   out[m, n] (+)= Σ_kb (Σ_{k in block kb} xq[m, k] · w[n, k]) · xs[m, kb] · ws[n / 128, kb]
// Each block's dot is summed in f32, then scaled (DeepSeek's fp8_gemm). Weights are streamed once for all
// tokens. A workgroup of 64 = 2 rows × 32 lanes; lane l sums blocks l, l+32, ... of its row (128 contiguous
// bytes each, 8 independent 16-byte loads), and the lanes' partial sums meet once in workgroup memory.
// 32 lanes per row keep many loads in flight on a GPU (8 lanes per row reached ~75 GB/s on an H200).

struct Params {
  rows: u32,        // tokens M, 1..8
  n: u32,           // output features N
  k: u32,           // input features K, a multiple of 16
  kBlocks: u32,     // ceil(K / 128)
  accumulate: u32,  // 1: out += result (residual stream), 0: out = result
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<vec4<u32>>;      // [N, K/16] E4M3 codes, 16 per vec4
@group(0) @binding(2) var<storage, read> ws: array<f32>;           // [ceil(N/128), kBlocks] weight_scale_inv
@group(0) @binding(3) var<storage, read> xq: array<vec4<f32>>;     // [M, K/4] E4M3 values
@group(0) @binding(4) var<storage, read> xs: array<f32>;           // [M, kBlocks] activation scales
@group(0) @binding(5) var<storage, read_write> out: array<f32>;    // [M, N]

const LANES = 32u;
const ROWS = 2u;
const MAX_M = 8u;

var<workgroup> partial: array<f32, 512>; // [MAX_M, 64]

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

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let tile = wid.x + wid.y * nwg.x;
  let r = li / LANES;
  let lane = li % LANES;
  let n = tile * ROWS + r;
  let vecsPerRow = p.k / 16u;
  let k4 = p.k / 4u;
  var acc: array<f32, MAX_M>;
  if (n < p.n) {
    let sRow = (n / 128u) * p.kBlocks;
    for (var kb = lane; kb < p.kBlocks; kb += LANES) {
      var bd = array<f32, MAX_M>(); // explicit: llvmpipe keeps an uninitialized loop-local var across iterations
      let v1 = min(kb * 8u + 8u, vecsPerRow);
      for (var v = kb * 8u; v < v1; v++) {
        let wv = w[n * vecsPerRow + v];
        let w0 = e4m3x4(wv.x);
        let w1 = e4m3x4(wv.y);
        let w2 = e4m3x4(wv.z);
        let w3 = e4m3x4(wv.w);
        // Constant trip counts (guarded) so the per-token arrays unroll into registers, not local memory.
        for (var m = 0u; m < MAX_M; m++) {
          if (m < p.rows) {
            let xb = m * k4 + v * 4u;
            bd[m] += dot(w0, xq[xb]) + dot(w1, xq[xb + 1u]) + dot(w2, xq[xb + 2u]) + dot(w3, xq[xb + 3u]);
          }
        }
      }
      let wScale = ws[sRow + kb] * 256.0; // e4m3x4 yields values · 2^-8
      for (var m = 0u; m < MAX_M; m++) {
        if (m < p.rows) {
          acc[m] += bd[m] * xs[m * p.kBlocks + kb] * wScale;
        }
      }
    }
  }
  for (var m = 0u; m < MAX_M; m++) {
    partial[m * 64u + li] = acc[m];
  }
  workgroupBarrier();
  if (lane != 0u || n >= p.n) {
    return;
  }
  for (var m = 0u; m < p.rows; m++) {
    var s = 0.0;
    for (var l = 0u; l < LANES; l++) {
      s += partial[m * 64u + r * LANES + l];
    }
    let o = m * p.n + n;
    out[o] = select(s, out[o] + s, p.accumulate != 0u);
  }
}
