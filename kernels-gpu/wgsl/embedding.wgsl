// Embedding lookup: out[t, :] = table[token[t], :] for the tokens of this step.

struct Params {
  rows: u32,      // tokens
  hidden4: u32,   // hidden / 4
  vocab: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> table: array<vec4<f32>>;       // [vocab, hidden/4]
@group(0) @binding(2) var<storage, read> rowInfo: array<vec4<u32>>;     // [rows] (token, pos, slot, -)
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;   // [rows, hidden/4]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = gid.x + gid.y * nwg.x * 64u;
  if (id >= p.rows * p.hidden4) {
    return;
  }
  let t = id / p.hidden4;
  let token = min(rowInfo[t].x, p.vocab - 1u); // the host validates ids; this only keeps reads in bounds
  out[id] = table[token * p.hidden4 + id % p.hidden4];
}
