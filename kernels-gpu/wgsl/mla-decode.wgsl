// Absorbed MLA decode attention over the paged latent cache. Token t (at position pos of sequence slot s)
// attends, per head h, to positions 0..pos of its own sequence:
//   score[j] = (qLat[t, h] · c_kv[j] + q_pe[t, h] · k_pe[j]) · scale,  p = softmax(score)
//   oLat[t, h] = Σ_j p[j] · c_kv[j]                       (W_UV is applied after, by mla-absorb-out)
// Workgroup per (h, t): invocations split positions for the scores, then latent columns for the sum;
// scores go through the `att` scratch in storage memory, so contexts are not capped by workgroup memory.

struct Params {
  heads: u32,
  latent: u32,      // C, a multiple of 4
  rope: u32,        // a multiple of 4
  qk: u32,          // nope + rope: f32 per head in q
  nope: u32,
  pageSize: u32,
  maxPages: u32,    // page-table columns per sequence
  maxT: u32,        // att scratch positions per (t, h)
  scale: f32,       // softmax scale (YaRN mscale² included)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qLat: array<vec4<f32>>;      // [rows, heads, C/4] from mla-absorb-q
@group(0) @binding(2) var<storage, read> q: array<f32>;               // [rows, heads · qk], rotated q_pe at nope..qk
@group(0) @binding(3) var<storage, read> cache: array<vec4<f32>>;     // [pages · pageSize, (C + rope)/4]
@group(0) @binding(4) var<storage, read> pageTable: array<u32>;       // [slots, maxPages]
@group(0) @binding(5) var<storage, read> rowInfo: array<vec4<u32>>;   // [rows] (token, pos, slot, -)
@group(0) @binding(6) var<storage, read_write> att: array<f32>;       // [rows, heads, maxT] scratch
@group(0) @binding(7) var<storage, read_write> oLat: array<vec4<f32>>; // [rows, heads, C/4]

var<workgroup> red: array<f32, 64>;

fn reduce(li: u32, v: f32, isMax: bool) -> f32 {
  red[li] = v;
  for (var half = 32u; half > 0u; half >>= 1u) {
    workgroupBarrier();
    if (li < half) {
      red[li] = select(red[li] + red[li + half], max(red[li], red[li + half]), isMax);
    }
  }
  workgroupBarrier();
  let r = red[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let h = wid.x;
  let t = wid.y;
  let info = rowInfo[t];
  let n = info.y + 1u;
  let pages = info.z * p.maxPages;
  let c4 = p.latent / 4u;
  let width4 = (p.latent + p.rope) / 4u;
  let qLatBase = (t * p.heads + h) * c4;
  let qPe = t * p.heads * p.qk + h * p.qk + p.nope;
  let attBase = (t * p.heads + h) * p.maxT;

  var localMax = -3.0e38;
  for (var j = li; j < n; j += 64u) {
    let row = (pageTable[pages + j / p.pageSize] * p.pageSize + j % p.pageSize) * width4;
    var s = 0.0;
    for (var c = 0u; c < c4; c++) {
      s += dot(qLat[qLatBase + c], cache[row + c]);
    }
    for (var r = 0u; r < p.rope / 4u; r++) {
      let qv = vec4<f32>(q[qPe + 4u * r], q[qPe + 4u * r + 1u], q[qPe + 4u * r + 2u], q[qPe + 4u * r + 3u]);
      s += dot(qv, cache[row + c4 + r]);
    }
    s *= p.scale;
    att[attBase + j] = s;
    localMax = max(localMax, s);
  }
  let m = reduce(li, localMax, true);
  var localSum = 0.0;
  for (var j = li; j < n; j += 64u) {
    let e = exp(att[attBase + j] - m);
    att[attBase + j] = e;
    localSum += e;
  }
  let total = reduce(li, localSum, false);
  storageBarrier(); // every invocation's att writes, visible to all below

  for (var c = li; c < c4; c += 64u) {
    var o = vec4<f32>(0.0);
    for (var j = 0u; j < n; j++) {
      let row = (pageTable[pages + j / p.pageSize] * p.pageSize + j % p.pageSize) * width4;
      o += att[attBase + j] * cache[row + c];
    }
    oLat[qLatBase + c] = o / total;
  }
}
