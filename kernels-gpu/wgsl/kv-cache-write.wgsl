// Writes this step's MLA cache rows into the paged latent cache: for token t at position pos of sequence
// slot s, row pageTable[s, pos / pageSize] · pageSize + pos % pageSize gets [kv_norm(c_kv) | k_pe]
// (the rotated rope key). That is all MLA caches per token: latent + rope floats.

struct Params {
  rows: u32,        // tokens
  latent: u32,      // C = kv_lora_rank
  rope: u32,        // rope dim
  kvaStride: u32,   // f32 per row of kva ([c_kv | k_pe] from kv_a_proj)
  pageSize: u32,
  maxPages: u32,    // page-table columns per sequence
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> latent: array<f32>;          // [rows, C] kv_norm(c_kv)
@group(0) @binding(2) var<storage, read> kva: array<f32>;             // [rows, kvaStride], k_pe at C..C+rope
@group(0) @binding(3) var<storage, read> pageTable: array<u32>;       // [slots, maxPages] page ids
@group(0) @binding(4) var<storage, read> rowInfo: array<vec4<u32>>;   // [rows] (token, pos, slot, -)
@group(0) @binding(5) var<storage, read_write> cache: array<f32>;     // [pages · pageSize, C + rope]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let width = p.latent + p.rope;
  let id = gid.x + gid.y * nwg.x * 64u;
  if (id >= p.rows * width) {
    return;
  }
  let t = id / width;
  let c = id % width;
  let info = rowInfo[t];
  let row = pageTable[info.z * p.maxPages + info.y / p.pageSize] * p.pageSize + info.y % p.pageSize;
  var v: f32;
  if (c < p.latent) {
    v = latent[t * p.latent + c];
  } else {
    v = kva[t * p.kvaStride + c];
  }
  cache[row * width + c] = v;
}
