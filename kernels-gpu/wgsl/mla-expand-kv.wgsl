// MLA prefill, naive form, step 1: expand one sequence's cached latents into per-head keys and values
// (engine/deepseek/mla.ts mlaExpandKv), for positions 0..len-1 read through its page table:
//   k[j, h] = [W_UK[h] · c_kv[j] ; k_pe[j]]      v[j, h] = W_UV[h] · c_kv[j]
// One invocation per (position, head, output element); element i < per is a dot over the latent.

struct Params {
  len: u32,         // positions 0..len-1
  slot: u32,        // the sequence's page-table row
  heads: u32,
  nope: u32,
  rope: u32,
  v: u32,
  latent4: u32,     // C / 4
  pageSize: u32,
  maxPages: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> cache: array<vec4<f32>>;     // [pages · pageSize, (C + rope)/4]
@group(0) @binding(2) var<storage, read> pageTable: array<u32>;       // [slots, maxPages]
@group(0) @binding(3) var<storage, read> kvB: array<vec4<f32>>;       // [heads · (nope + v), C/4]
@group(0) @binding(4) var<storage, read_write> k: array<f32>;         // [len, heads, nope + rope]
@group(0) @binding(5) var<storage, read_write> vOut: array<f32>;      // [len, heads, v]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let per = p.nope + p.v;
  let each = per + p.rope;
  let id = gid.x + gid.y * nwg.x * 64u;
  if (id >= p.len * p.heads * each) {
    return;
  }
  let i = id % each;
  let h = (id / each) % p.heads;
  let j = id / (each * p.heads);
  let width4 = p.latent4 + p.rope / 4u;
  let row = (pageTable[p.slot * p.maxPages + j / p.pageSize] * p.pageSize + j % p.pageSize) * width4;
  let qk = p.nope + p.rope;
  if (i >= per) {
    let r = i - per;
    k[(j * p.heads + h) * qk + p.nope + r] = cache[row + p.latent4 + r / 4u][r % 4u];
    return;
  }
  var acc = 0.0;
  let w = (h * per + i) * p.latent4;
  for (var c = 0u; c < p.latent4; c++) {
    acc += dot(kvB[w + c], cache[row + c]);
  }
  if (i < p.nope) {
    k[(j * p.heads + h) * qk + i] = acc;
  } else {
    vOut[(j * p.heads + h) * p.v + i - p.nope] = acc;
  }
}
