// f32 linear layer for the weights DeepSeek keeps in high precision (router, LM head):
//   out[m, n] = Σ_k x[m, k] · w[n, k]
// Register-blocked: each invocation owns 4 rows × 4 tokens and reads both operands as vec4.

struct Params {
  rows: u32,   // tokens M
  n: u32,      // output features N
  k4: u32,     // input features / 4
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> w: array<vec4<f32>>;       // [N, K/4]
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;       // [M, K/4]
@group(0) @binding(3) var<storage, read_write> out: array<f32>;     // [M, N]

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n0 = gid.x * 4u;
  let m0 = gid.y * 4u;
  if (n0 >= p.n || m0 >= p.rows) {
    return;
  }
  var nr: array<u32, 4>;
  var mr: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) {
    nr[i] = min(n0 + i, p.n - 1u) * p.k4;
    mr[i] = min(m0 + i, p.rows - 1u) * p.k4;
  }
  var acc = array<vec4<f32>, 4>(); // [token i] . [row j]
  for (var k = 0u; k < p.k4; k++) {
    let a = w[nr[0] + k];
    let b = w[nr[1] + k];
    let c = w[nr[2] + k];
    let d = w[nr[3] + k];
    for (var i = 0u; i < 4u; i++) {
      let xv = x[mr[i] + k];
      acc[i] += vec4<f32>(dot(a, xv), dot(b, xv), dot(c, xv), dot(d, xv));
    }
  }
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      if (m0 + i < p.rows && n0 + j < p.n) {
        out[(m0 + i) * p.n + n0 + j] = acc[i][j];
      }
    }
  }
}
