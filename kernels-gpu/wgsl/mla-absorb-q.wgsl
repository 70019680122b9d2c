// Absorbed MLA, query side: fold W_UK (the first `nope` rows of each head's block of kv_b_proj) into the
// query, so attention scores can be taken against the cached latents directly:
//   qLat[t, h, c] = Σ_{i < nope} q[t, h·qk + i] · kvB[h·(nope + v) + i, c]

struct Params {
  rows: u32,      // tokens
  heads: u32,
  nope: u32,      // qk_nope_head_dim
  qk: u32,        // nope + rope: f32 per head in q
  per: u32,       // nope + v: kv_b_proj rows per head
  latent4: u32,   // C / 4
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;                // [rows, heads · qk]
@group(0) @binding(2) var<storage, read> kvB: array<vec4<f32>>;        // [heads · per, C/4]
@group(0) @binding(3) var<storage, read_write> qLat: array<vec4<f32>>; // [rows, heads, C/4]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = gid.x + gid.y * nwg.x * 64u;
  if (id >= p.rows * p.heads * p.latent4) {
    return;
  }
  let c4 = id % p.latent4;
  let h = (id / p.latent4) % p.heads;
  let t = id / (p.latent4 * p.heads);
  let qBase = t * p.heads * p.qk + h * p.qk;
  var acc = vec4<f32>(0.0);
  for (var i = 0u; i < p.nope; i++) {
    acc += q[qBase + i] * kvB[(h * p.per + i) * p.latent4 + c4];
  }
  qLat[id] = acc;
}
