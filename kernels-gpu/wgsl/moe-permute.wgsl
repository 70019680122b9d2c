// Token permutation by expert: the rows × topk assignments (token t's j-th expert idx[t·topk + j]) are
// sorted by expert, stably (token order within an expert), without atomics, so runs are reproducible.
// One invocation per expert e: offsets[e] = #assignments to lower experts; it then writes its own
// assignments in order: rowToken[row] = token, slotRow[t·topk + j] = row (where the scatter-add finds it).

struct Params {
  rows: u32,      // tokens
  topk: u32,
  experts: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> idx: array<u32>;             // [rows, topk] experts per token
@group(0) @binding(2) var<storage, read_write> rowToken: array<u32>;  // [rows·topk] token of each sorted row
@group(0) @binding(3) var<storage, read_write> slotRow: array<u32>;   // [rows·topk] sorted row of each assignment
@group(0) @binding(4) var<storage, read_write> offsets: array<u32>;   // [experts + 1] first sorted row per expert

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let e = gid.x;
  let n = p.rows * p.topk;
  if (e == 0u) {
    offsets[p.experts] = n;
  }
  if (e >= p.experts) {
    return;
  }
  var row = 0u;
  for (var a = 0u; a < n; a++) {
    row += select(0u, 1u, idx[a] < e);
  }
  offsets[e] = row;
  for (var a = 0u; a < n; a++) {
    if (idx[a] == e) {
      rowToken[row] = a / p.topk;
      slotRow[a] = row;
      row++;
    }
  }
}
