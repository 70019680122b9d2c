// Rotary embedding of MLA's rope part, interleaved pairs (DeepSeek's layout), in place: pair (2i, 2i+1)
// of each head turns by the angle of position pos[t] and frequency i. cos/sin come from a table the host
// computes once in float64 (YaRN frequencies and attention factor included: engine/deepseek/rope.ts).

struct Params {
  rows: u32,        // tokens
  heads: u32,
  rowStride: u32,   // f32 between tokens
  headStride: u32,  // f32 between heads
  offset: u32,      // first rope element within a head
  half: u32,        // rope dim / 2
  maxPos: u32,      // rows of the table
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;           // [rows, rowStride]
@group(0) @binding(2) var<storage, read> table: array<vec2<f32>>;       // [maxPos, half] (cos, sin)
@group(0) @binding(3) var<storage, read> rowInfo: array<vec4<u32>>;     // [rows] (token, pos, slot, -)

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = gid.x + gid.y * nwg.x * 64u;
  if (id >= p.rows * p.heads * p.half) {
    return;
  }
  let i = id % p.half;
  let h = (id / p.half) % p.heads;
  let t = id / (p.half * p.heads);
  let pos = min(rowInfo[t].y, p.maxPos - 1u);
  let cs = table[pos * p.half + i];
  let at = t * p.rowStride + h * p.headStride + p.offset + 2u * i;
  let a = x[at];
  let b = x[at + 1u];
  x[at] = a * cs.x - b * cs.y;
  x[at + 1u] = a * cs.y + b * cs.x;
}
