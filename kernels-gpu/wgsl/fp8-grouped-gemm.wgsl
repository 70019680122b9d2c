// Grouped FP8 expert GEMM (DeepSeekMoE dispatch): all routed experts' weights in one buffer; rows of the
// activation matrix are sorted by expert (moe-permute), expert e owning rows offsets[e]..offsets[e+1].
//   out[r, n] = Σ_kb (Σ_k xq[src(r), k] · w[e, n, k]) · xs[src(r), kb] · ws[e, n / 128, kb]
// with src(r) = rowToken[r] when gathering from the token matrix, else r. Each block's dot is summed in
// f32, then scaled, as in fp8-gemv, whose 8 rows × 8 lanes layout this reuses: workgroup (tile, e)
// walks its expert's rows 8 at a time; an expert with no rows costs one read.

struct Params {
  n: u32,         // output features N per expert
  k: u32,         // input features K, a multiple of 16
  kBlocks: u32,   // ceil(K / 128)
  nBlocks: u32,   // ceil(N / 128)
  gather: u32,    // 1: source row = rowToken[r]; 0: source row = r
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<vec4<u32>>;      // [E, N, K/16] E4M3 codes
@group(0) @binding(2) var<storage, read> ws: array<f32>;           // [E, nBlocks, kBlocks]
@group(0) @binding(3) var<storage, read> xq: array<vec4<f32>>;     // [source rows, K/4] E4M3 values
@group(0) @binding(4) var<storage, read> xs: array<f32>;           // [source rows, kBlocks]
@group(0) @binding(5) var<storage, read> rowToken: array<u32>;     // [R] source row of each sorted row
@group(0) @binding(6) var<storage, read> offsets: array<u32>;      // [E + 1] first sorted row per expert
@group(0) @binding(7) var<storage, read_write> out: array<f32>;    // [R, N] in sorted order

const LANES = 8u;
const ROWS = 8u;
const CHUNK = 8u;

var<workgroup> partial: array<f32, 512>; // [CHUNK, 64]

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
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let e = wid.y;
  let r = li / LANES;
  let lane = li % LANES;
  let n = wid.x * ROWS + r;
  let first = offsets[e];
  let end = offsets[e + 1u];
  let vecsPerRow = p.k / 16u;
  let k4 = p.k / 4u;
  let wRow = (e * p.n + min(n, p.n - 1u)) * vecsPerRow;
  let sRow = (e * p.nBlocks + min(n, p.n - 1u) / 128u) * p.kBlocks;
  for (var c0 = first; c0 < end; c0 += CHUNK) {
    let count = min(CHUNK, end - c0);
    var src: array<u32, CHUNK>;
    for (var m = 0u; m < CHUNK; m++) {
      let r = c0 + min(m, count - 1u); // rows past count repeat the last one; their sums are never stored
      src[m] = select(r, rowToken[r], p.gather != 0u);
    }
    var acc = array<f32, CHUNK>();
    for (var kb = lane; kb < p.kBlocks; kb += LANES) {
      var bd = array<f32, CHUNK>(); // explicit: llvmpipe keeps an uninitialized loop-local var across iterations
      let v1 = min(kb * 8u + 8u, vecsPerRow);
      for (var v = kb * 8u; v < v1; v++) {
        let wv = w[wRow + v];
        let w0 = e4m3x4(wv.x);
        let w1 = e4m3x4(wv.y);
        let w2 = e4m3x4(wv.z);
        let w3 = e4m3x4(wv.w);
        // Constant trip counts (guarded) so the per-row arrays unroll into registers, not local memory.
        for (var m = 0u; m < CHUNK; m++) {
          if (m < count) {
            let xb = src[m] * k4 + v * 4u;
            bd[m] += dot(w0, xq[xb]) + dot(w1, xq[xb + 1u]) + dot(w2, xq[xb + 2u]) + dot(w3, xq[xb + 3u]);
          }
        }
      }
      let wScale = ws[sRow + kb] * 256.0; // e4m3x4 yields values · 2^-8
      for (var m = 0u; m < CHUNK; m++) {
        if (m < count) {
          acc[m] += bd[m] * xs[src[m] * p.kBlocks + kb] * wScale;
        }
      }
    }
    for (var m = 0u; m < CHUNK; m++) {
      partial[m * 64u + li] = acc[m];
    }
    workgroupBarrier();
    if (lane == 0u && n < p.n) {
      for (var m = 0u; m < count; m++) {
        var s = 0.0;
        for (var l = 0u; l < LANES; l++) {
          s += partial[m * 64u + r * LANES + l];
        }
        out[(c0 + m) * p.n + n] = s;
      }
    }
    workgroupBarrier();
  }
}
