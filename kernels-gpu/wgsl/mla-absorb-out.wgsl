// Absorbed MLA, output side: apply W_UV (the last `v` rows of each head's block of kv_b_proj) to the
// attention-weighted latent:  out[t, h·v + j] = Σ_c oLat[t, h, c] · kvB[h·(nope + v) + nope + j, c]

struct Params {
  rows: u32,      // tokens
  heads: u32,
  nope: u32,
  v: u32,         // v_head_dim
  per: u32,       // nope + v
  latent4: u32,   // C / 4
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> oLat: array<vec4<f32>>;     // [rows, heads, C/4]
@group(0) @binding(2) var<storage, read> kvB: array<vec4<f32>>;      // [heads · per, C/4]
@group(0) @binding(3) var<storage, read_write> out: array<f32>;      // [rows, heads · v]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = gid.x + gid.y * nwg.x * 64u;
  if (id >= p.rows * p.heads * p.v) {
    return;
  }
  let j = id % p.v;
  let h = (id / p.v) % p.heads;
  let t = id / (p.v * p.heads);
  let o = (t * p.heads + h) * p.latent4;
  let w = (h * p.per + p.nope + j) * p.latent4;
  var acc = 0.0;
  for (var c = 0u; c < p.latent4; c++) {
    acc += dot(oLat[o + c], kvB[w + c]);
  }
  out[id] = acc;
}
