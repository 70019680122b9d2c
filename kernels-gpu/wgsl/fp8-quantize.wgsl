// Dynamic FP8 E4M3 activation quantization per 1×128 block (DeepSeek-V3's act_quant): per row and block,
// scale = amax / 448 and q = e4m3(x / scale), nearest value with ties to even, saturating at ±448.
// q is stored as the f32 value of its E4M3 code (exact), so the GEMMs multiply values, not codes.
// passThrough = 1 skips quantization (q = x, scale = 1): the FP8 GEMMs then compute weight-only FP8
// with f32 activations, like the reference's 'dequantized' GEMM. One workgroup of 128 per (row, block),
// amax through workgroup memory (one invocation per block, looping, was latency-bound: ~0.1 ms on an H200).

struct Params {
  rows: u32,    // tokens
  cols: u32,    // K
  blocks: u32,  // ceil(K / 128)
  passThrough: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;             // [rows, cols]
@group(0) @binding(2) var<storage, read_write> q: array<f32>;       // [rows, cols] E4M3 values
@group(0) @binding(3) var<storage, read_write> scale: array<f32>;   // [rows, blocks]

// Nearest E4M3 value of v (ties to even), saturating at ±448.
fn e4m3(v: f32) -> f32 {
  let a = abs(v);
  var r: f32;
  if (a >= 448.0) {
    r = 448.0;
  } else if (a < 0.015625) {
    r = round(a * 512.0) / 512.0; // below 2^-6 the grid is uniform, step 2^-9; round() ties to even
  } else {
    // Keep 3 of f32's 23 mantissa bits, rounding the dropped 20 to nearest even; a carry bumps the exponent.
    let bits = bitcast<u32>(a);
    let dropped = bits & 0xFFFFFu;
    var kept = bits & ~0xFFFFFu;
    if (dropped > 0x80000u || (dropped == 0x80000u && (bits & 0x100000u) != 0u)) {
      kept += 0x100000u;
    }
    r = min(bitcast<f32>(kept), 448.0);
  }
  return select(r, -r, v < 0.0);
}

var<workgroup> red: array<f32, 128>;

@compute @workgroup_size(128)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = wid.x + wid.y * nwg.x; // (row, block)
  if (id >= p.rows * p.blocks) {
    return; // uniform per workgroup
  }
  let row = id / p.blocks;
  let c = (id % p.blocks) * 128u + li;
  let inside = c < p.cols;
  let i = row * p.cols + min(c, p.cols - 1u);
  let v = x[i];
  red[li] = select(0.0, abs(v), inside);
  for (var half = 64u; half > 0u; half >>= 1u) {
    workgroupBarrier();
    if (li < half) {
      red[li] = max(red[li], red[li + half]);
    }
  }
  workgroupBarrier();
  let amax = red[0];
  var s = select(1.0, amax / 448.0, amax > 0.0);
  if (p.passThrough != 0u) {
    s = 1.0;
  }
  if (li == 0u) {
    scale[id] = s;
  }
  if (inside) {
    q[i] = select(e4m3(v / s), v, p.passThrough != 0u);
  }
}
