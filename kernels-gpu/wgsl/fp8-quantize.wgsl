// Dynamic FP8 E4M3 activation quantization per 1×128 block (DeepSeek-V3's act_quant): per row and block,
// scale = amax / 448 and q = e4m3(x / scale), nearest value with ties to even, saturating at ±448.
// q is stored as the f32 value of its E4M3 code (exact), so the GEMMs multiply values, not codes.
// passThrough = 1 skips quantization (q = x, scale = 1): the FP8 GEMMs then compute weight-only FP8
// with f32 activations, like the reference's 'dequantized' GEMM. One invocation per (row, block).

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

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = gid.x + gid.y * nwg.x * 64u;
  if (id >= p.rows * p.blocks) {
    return;
  }
  let row = id / p.blocks;
  let b = id % p.blocks;
  let c0 = row * p.cols + b * 128u;
  let c1 = row * p.cols + min(p.cols, (b + 1u) * 128u);
  if (p.passThrough != 0u) {
    scale[id] = 1.0;
    for (var i = c0; i < c1; i++) {
      q[i] = x[i];
    }
    return;
  }
  var amax = 0.0;
  for (var i = c0; i < c1; i++) {
    amax = max(amax, abs(x[i]));
  }
  let s = select(1.0, amax / 448.0, amax > 0.0);
  scale[id] = s;
  for (var i = c0; i < c1; i++) {
    q[i] = e4m3(x[i] / s);
  }
}
