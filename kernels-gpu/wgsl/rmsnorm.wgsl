// RMSNorm of each row: out[r, i] = x[r, i] / sqrt(mean(x[r, :n]²) + eps) · weight[i].
// Rows may be strided (the latent c_kv is the first kvLoraRank of each kv_a_proj row).
// One workgroup per row; the sum of squares meets in workgroup memory.

struct Params {
  rows: u32,
  n: u32,           // normalized width
  inStride: u32,    // f32 between rows of x
  outStride: u32,   // f32 between rows of out
  eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;            // [rows, inStride]
@group(0) @binding(2) var<storage, read> weight: array<f32>;       // [n]
@group(0) @binding(3) var<storage, read_write> out: array<f32>;    // [rows, outStride]

var<workgroup> sums: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.rows) {
    return; // uniform per workgroup: the barriers below see all or none of it
  }
  let base = row * p.inStride;
  var ss = 0.0;
  for (var i = li; i < p.n; i += 64u) {
    ss += x[base + i] * x[base + i];
  }
  sums[li] = ss;
  for (var half = 32u; half > 0u; half >>= 1u) {
    workgroupBarrier();
    if (li < half) {
      sums[li] += sums[li + half];
    }
  }
  workgroupBarrier();
  let inv = inverseSqrt(sums[0] / f32(p.n) + p.eps);
  for (var i = li; i < p.n; i += 64u) {
    out[row * p.outStride + i] = x[base + i] * inv * weight[i];
  }
}
