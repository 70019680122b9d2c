enable subgroups;

// FP8 block-scaled GEMV for up to 8 tokens, coalesced (needs the `subgroups` feature, subgroups of ≥ 8):
// the same math as fp8-gemv,
//   out[m, n] (+)= Σ_kb (Σ_{k in block kb} xq[m, k] · w[n, k]) · xs[m, kb] · ws[n / 128, kb],
// but the 8 consecutive lanes of a group read one 128-byte block together (16 bytes each), so a row's
// 32 lanes read 512 contiguous bytes per step; each block's f32 sum is completed across its 8 lanes with
// shuffles, then scaled. Workgroup of 64 = 2 rows × 32 lanes; partial sums meet in workgroup memory.

struct Params {
  rows: u32,        // tokens M, 1..8
  n: u32,           // output features N
  k: u32,           // input features K, a multiple of 16
  kBlocks: u32,     // ceil(K / 128)
  accumulate: u32,  // 1: out += result, 0: out = result
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

// E4M3 codes of a word as f32 values · 2^-8, exactly (see fp8-gemv.wgsl).
fn e4m3x4(word: u32) -> vec4<f32> {
  let even = word & 0x00FF00FFu;
  let odd = (word >> 8u) & 0x00FF00FFu;
  let a = unpack2x16float(((even & 0x00800080u) << 8u) | ((even & 0x007F007Fu) << 7u));
  let b = unpack2x16float(((odd & 0x00800080u) << 8u) | ((odd & 0x007F007Fu) << 7u));
  return vec4<f32>(a.x, b.x, a.y, b.y);
}

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let tile = wid.x + wid.y * nwg.x;
  let r = li / LANES;
  let lane = li % LANES;
  let part = lane % 8u; // which 16 bytes of the block
  let group = lane / 8u; // which of the 4 blocks of a step
  let n = tile * ROWS + r;
  let row = min(n, p.n - 1u); // every lane takes part in the shuffles; rows past N are never stored
  let vecsPerRow = p.k / 16u;
  let k4 = p.k / 4u;
  let sRow = (row / 128u) * p.kBlocks;
  var acc = array<f32, MAX_M>();
  for (var kb0 = 0u; kb0 < p.kBlocks; kb0 += 4u) {
    let kb = kb0 + group;
    let v = kb * 8u + part;
    var bd = array<f32, MAX_M>();
    if (kb < p.kBlocks && v < vecsPerRow) {
      let wv = w[row * vecsPerRow + v];
      let w0 = e4m3x4(wv.x);
      let w1 = e4m3x4(wv.y);
      let w2 = e4m3x4(wv.z);
      let w3 = e4m3x4(wv.w);
      for (var m = 0u; m < MAX_M; m++) {
        if (m < p.rows) {
          let xb = m * k4 + v * 4u;
          bd[m] = dot(w0, xq[xb]) + dot(w1, xq[xb + 1u]) + dot(w2, xq[xb + 2u]) + dot(w3, xq[xb + 3u]);
        }
      }
    }
    let wScale = ws[sRow + min(kb, p.kBlocks - 1u)] * 256.0; // e4m3x4 yields values · 2^-8
    for (var m = 0u; m < MAX_M; m++) {
      if (m < p.rows) {
        var s = bd[m];
        s += subgroupShuffleXor(s, 1u);
        s += subgroupShuffleXor(s, 2u);
        s += subgroupShuffleXor(s, 4u);
        if (part == 0u && kb < p.kBlocks) {
          acc[m] += s * xs[m * p.kBlocks + kb] * wScale;
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
    for (var l = 0u; l < LANES; l += 8u) {
      s += partial[m * 64u + r * LANES + l];
    }
    let o = m * p.n + n;
    out[o] = select(s, out[o] + s, p.accumulate != 0u);
  }
}
