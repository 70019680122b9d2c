// Weighted scatter-add of the routed experts' outputs back to their tokens, into the residual stream:
//   x[t, c] += Σ_j weight[t, j] · y[slotRow[t·topk + j], c]      (j in order: deterministic)

struct Params {
  rows: u32,     // tokens
  topk: u32,
  hidden: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;     // [rows, hidden] residual stream
@group(0) @binding(2) var<storage, read> y: array<f32>;           // [rows·topk, hidden] expert outputs, sorted rows
@group(0) @binding(3) var<storage, read> weight: array<f32>;      // [rows, topk]
@group(0) @binding(4) var<storage, read> slotRow: array<u32>;     // [rows·topk]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = gid.x + gid.y * nwg.x * 64u;
  if (id >= p.rows * p.hidden) {
    return;
  }
  let t = id / p.hidden;
  let c = id % p.hidden;
  var s = 0.0;
  for (var j = 0u; j < p.topk; j++) {
    let a = t * p.topk + j;
    s += weight[a] * y[slotRow[a] * p.hidden + c];
  }
  x[id] += s;
}
