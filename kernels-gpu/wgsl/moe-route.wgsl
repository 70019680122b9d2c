// DeepSeekMoE router for each token (engine/deepseek/moe.ts moeRoute): scores = sigmoid(logits) (or
// softmax); e_score_correction_bias is added for *selection only*; with groups, each group is scored by
// the sum of its top-2 biased scores (noaux_tc) or its max (group_limited_greedy), the best topkGroup
// groups stay eligible, and the topK eligible experts by biased score are chosen, weighted by their
// unbiased scores, normalized to sum 1 (normTopk) and × routedScaling. Ties go to the lower index.
// One invocation per token; experts ≤ 256, groups ≤ 64 (checked by the host).

struct Params {
  rows: u32,         // tokens
  experts: u32,      // E
  groups: u32,       // n_group
  topkGroup: u32,
  topk: u32,
  method: u32,       // 0 noaux_tc, 1 group_limited_greedy, 2 greedy
  softmax: u32,      // 0 sigmoid, 1 softmax scoring
  normTopk: u32,     // 1: normalize the chosen weights to sum 1 (when topk > 1)
  hasBias: u32,
  routedScaling: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;          // [rows, E] router logits
@group(0) @binding(2) var<storage, read> bias: array<f32>;            // [E] e_score_correction_bias (read when hasBias)
@group(0) @binding(3) var<storage, read_write> idx: array<u32>;       // [rows, topk] chosen experts, best first
@group(0) @binding(4) var<storage, read_write> weight: array<f32>;    // [rows, topk] their weights

const MAX_E = 256u;
const MAX_G = 64u;
const NEG_INF = -3.0e38;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x;
  if (t >= p.rows) {
    return;
  }
  let E = p.experts;
  var score: array<f32, MAX_E>;
  var choice: array<f32, MAX_E>;
  var mx = NEG_INF;
  for (var i = 0u; i < E; i++) {
    let l = logits[t * E + i];
    score[i] = select(1.0 / (1.0 + exp(-l)), l, p.softmax != 0u);
    mx = max(mx, l);
  }
  if (p.softmax != 0u) {
    var sum = 0.0;
    for (var i = 0u; i < E; i++) {
      score[i] = exp(score[i] - mx);
      sum += score[i];
    }
    for (var i = 0u; i < E; i++) {
      score[i] /= sum;
    }
  }
  for (var i = 0u; i < E; i++) {
    choice[i] = score[i] + select(0.0, bias[i], p.hasBias != 0u);
  }

  if (p.method != 2u && p.groups > 1u) {
    let per = E / p.groups;
    var gscore: array<f32, MAX_G>;
    for (var g = 0u; g < p.groups; g++) {
      var first = NEG_INF;
      var second = NEG_INF;
      for (var i = g * per; i < (g + 1u) * per; i++) {
        let v = choice[i];
        if (v > first) {
          second = first;
          first = v;
        } else if (v > second) {
          second = v;
        }
      }
      gscore[g] = select(first, first + second, p.method == 0u);
    }
    var keep = array<bool, MAX_G>();
    for (var j = 0u; j < p.topkGroup; j++) {
      var best = MAX_G;
      for (var g = 0u; g < p.groups; g++) {
        if (!keep[g] && (best == MAX_G || gscore[g] > gscore[best])) {
          best = g;
        }
      }
      keep[best] = true;
    }
    for (var i = 0u; i < E; i++) {
      if (!keep[i / per]) {
        choice[i] = NEG_INF;
      }
    }
  }

  var taken = array<bool, MAX_E>();
  var sum = 0.0;
  for (var j = 0u; j < p.topk; j++) {
    var best = MAX_E;
    for (var i = 0u; i < E; i++) {
      if (!taken[i] && (best == MAX_E || choice[i] > choice[best])) {
        best = i;
      }
    }
    taken[best] = true;
    idx[t * p.topk + j] = best;
    sum += score[best];
  }
  let norm = select(1.0, 1.0 / (sum + 1e-20), p.normTopk != 0u && p.topk > 1u);
  for (var j = 0u; j < p.topk; j++) {
    weight[t * p.topk + j] = score[idx[t * p.topk + j]] * norm * p.routedScaling;
  }
}
