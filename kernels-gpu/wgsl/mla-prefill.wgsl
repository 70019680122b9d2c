// MLA prefill, naive form, step 2: causal attention of `rows` query tokens of one sequence, at positions
// start..start+rows-1, over its expanded keys and values (mla-expand-kv); query t sees positions
// 0..start+t (engine/deepseek/mla.ts mlaNaiveAttention):
//   p = softmax(q[t, h] · k[j, h] · scale)    out[t, h] = Σ_j p[j] · v[j, h]
// Workgroup per (h, t), as in mla-decode.

struct Params {
  heads: u32,
  qk: u32,        // nope + rope, a multiple of 4
  v: u32,         // a multiple of 4
  start: u32,     // position of the first query token
  maxT: u32,      // att scratch positions per (t, h)
  scale: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;          // [rows, heads, qk/4]
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;          // [len, heads, qk/4]
@group(0) @binding(3) var<storage, read> vIn: array<vec4<f32>>;        // [len, heads, v/4]
@group(0) @binding(4) var<storage, read_write> att: array<f32>;        // [rows, heads, maxT] scratch
@group(0) @binding(5) var<storage, read_write> out: array<vec4<f32>>;  // [rows, heads, v/4]

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
  let n = p.start + t + 1u;
  let qk4 = p.qk / 4u;
  let v4 = p.v / 4u;
  let qBase = (t * p.heads + h) * qk4;
  let attBase = (t * p.heads + h) * p.maxT;

  var localMax = -3.0e38;
  for (var j = li; j < n; j += 64u) {
    var s = 0.0;
    for (var c = 0u; c < qk4; c++) {
      s += dot(q[qBase + c], k[(j * p.heads + h) * qk4 + c]);
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
  storageBarrier();

  for (var c = li; c < v4; c += 64u) {
    var o = vec4<f32>(0.0);
    for (var j = 0u; j < n; j++) {
      o += att[attBase + j] * vIn[(j * p.heads + h) * v4 + c];
    }
    out[(t * p.heads + h) * v4 + c] = o / total;
  }
}
