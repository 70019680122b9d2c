// DeepSeekMoE plumbing: the router of one token (engine/deepseek/moe.ts moeRoute), and the dispatch that
// groups a batch's (token, slot) pairs by expert so each expert runs once over its tokens as a matmul:
// moe_plan (counting sort), moe_gather (their input rows, contiguous), moe_scatter_add (weighted rows back).
// The router and the plan are plain code (E ≤ 256 scores per token; T·K entries): they are their own twins.

/** The f32 at index i of the array at p. */
@inline function ldf(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

// Router methods, as in config.json topk_method.
const GREEDY = 0;
const GROUP_MAX = 1; // group_limited_greedy: a group scores its best expert
// 2 = noaux_tc: a group scores the sum of its top-2 biased scores

/** Indices of the k largest of x[0..n) into out (i32), largest first, lower index on ties; taken: u8 [n]. */
function topK(x: usize, n: i32, k: i32, out: usize, taken: usize): void {
  memory.fill(taken, 0, <usize>n);
  for (let j = 0; j < k; j++) {
    let best = -1;
    for (let i = 0; i < n; i++) {
      if (!load<u8>(taken + <usize>i) && (best < 0 || ldf(x, i) > ldf(x, best))) best = i;
    }
    store<u8>(taken + <usize>best, 1);
    store<i32>(out + (<usize>j << 2), best);
  }
}

/**
 * Routes one token: logits[E] (f32), bias[E] or 0 → idx[topK] (i32), weight[topK] (f32).
 * scratch: E f32 scores + E f32 choice + nGroup f32 + nGroup i32 + max(E, nGroup) bytes.
 * Scores are sigmoid (or softmax) of the logits; the bias only steers selection; weights are the chosen
 * unbiased scores, normalized to sum 1 when normTopk, times scaling.
 */
export function moe_route(
  idx: usize, weight: usize, logits: usize, bias: usize, scratch: usize,
  nExperts: i32, topk: i32, nGroup: i32, topkGroup: i32, method: i32, sigmoid: bool, normTopk: bool, scaling: f32,
): void {
  const E = nExperts;
  const scores = scratch, choice = scores + (<usize>E << 2), group = choice + (<usize>E << 2);
  const keep = group + (<usize>nGroup << 2), taken = keep + (<usize>nGroup << 2);
  let max: f32 = -Infinity, total: f32 = 0;
  for (let i = 0; i < E; i++) max = Mathf.max(max, ldf(logits, i));
  for (let i = 0; i < E; i++) {
    const l = ldf(logits, i);
    const s: f32 = sigmoid ? <f32>1 / (<f32>1 + Mathf.exp(-l)) : Mathf.exp(l - max);
    store<f32>(scores + (<usize>i << 2), s);
    total += s;
  }
  for (let i = 0; i < E; i++) {
    const p = scores + (<usize>i << 2);
    if (!sigmoid) store<f32>(p, load<f32>(p) / total);
    store<f32>(choice + (<usize>i << 2), load<f32>(p) + (bias ? ldf(bias, i) : 0));
  }
  if (method != GREEDY && nGroup > 1) {
    const per = E / nGroup;
    for (let g = 0; g < nGroup; g++) {
      let first: f32 = -Infinity, second: f32 = -Infinity;
      for (let i = g * per; i < (g + 1) * per; i++) {
        const v = ldf(choice, i);
        if (v > first) { second = first; first = v; } else if (v > second) second = v;
      }
      store<f32>(group + (<usize>g << 2), method == GROUP_MAX ? first : first + second);
    }
    topK(group, nGroup, topkGroup, keep, taken); // leaves taken[g] = 1 for the kept groups
    for (let g = 0; g < nGroup; g++) {
      if (load<u8>(taken + <usize>g)) continue;
      for (let i = g * per; i < (g + 1) * per; i++) store<f32>(choice + (<usize>i << 2), -Infinity);
    }
  }
  topK(choice, E, topk, idx, taken);
  let sum: f32 = 0;
  for (let j = 0; j < topk; j++) {
    const s = ldf(scores, load<i32>(idx + (<usize>j << 2)));
    store<f32>(weight + (<usize>j << 2), s);
    sum += s;
  }
  const norm: f32 = normTopk && topk > 1 ? <f32>1 / (sum + <f32>1e-20) : 1;
  for (let j = 0; j < topk; j++) store<f32>(weight + (<usize>j << 2), ldf(weight, j) * (norm * scaling));
}

/**
 * Groups the routed entries e = t·topk + slot of nTokens tokens (idx: i32 [nTokens, topk]) by expert,
 * stable in e: order[offsets[x] .. offsets[x+1]) lists expert x's entries. offsets: i32 [E + 1], order: i32 [nTokens·topk].
 */
export function moe_plan(offsets: usize, order: usize, idx: usize, nTokens: i32, topk: i32, nExperts: i32): void {
  const n = nTokens * topk;
  memory.fill(offsets, 0, <usize>(nExperts + 1) << 2);
  for (let e = 0; e < n; e++) {
    const p = offsets + (<usize>(load<i32>(idx + (<usize>e << 2)) + 1) << 2);
    store<i32>(p, load<i32>(p) + 1);
  }
  for (let x = 0; x < nExperts; x++) {
    const p = offsets + (<usize>(x + 1) << 2);
    store<i32>(p, load<i32>(p) + load<i32>(p - 4));
  }
  // Fill each expert's range from its start; the starts are rebuilt from the ends afterwards.
  for (let e = 0; e < n; e++) {
    const p = offsets + (<usize>load<i32>(idx + (<usize>e << 2)) << 2);
    const at = load<i32>(p);
    store<i32>(order + (<usize>at << 2), e);
    store<i32>(p, at + 1);
  }
  for (let x = nExperts; x > 0; x--) store<i32>(offsets + (<usize>x << 2), load<i32>(offsets + (<usize>(x - 1) << 2)));
  store<i32>(offsets, 0);
}

/** dst[i, cols] = x[order[start + i] / topk, cols] for i < count: an expert's input rows, contiguous. */
export function moe_gather(dst: usize, x: usize, order: usize, start: i32, count: i32, topk: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2;
  for (let i = 0; i < count; i++) {
    const t = load<i32>(order + (<usize>(start + i) << 2)) / topk;
    memory.copy(dst + <usize>i * rowBytes, x + <usize>t * rowBytes, rowBytes);
  }
}

/** out[t, cols] += weight[e] · y[i, cols] for each entry e = order[start + i], t = e / topk (f32x4). */
export function moe_scatter_add(out: usize, y: usize, order: usize, weight: usize, start: i32, count: i32, topk: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2, end4 = <usize>(cols & ~3) << 2;
  for (let i = 0; i < count; i++) {
    const e = load<i32>(order + (<usize>(start + i) << 2));
    const w = ldf(weight, e), wv = f32x4.splat(w);
    const o = out + <usize>(e / topk) * rowBytes, yi = y + <usize>i * rowBytes;
    let j: usize = 0;
    for (; j < end4; j += 16) v128.store(o + j, f32x4.add(v128.load(o + j), f32x4.mul(wv, v128.load(yi + j))));
    for (; j < rowBytes; j += 4) store<f32>(o + j, load<f32>(o + j) + w * load<f32>(yi + j));
  }
}

/** Scalar twin of moe_scatter_add. */
export function moe_scatter_add_scalar(out: usize, y: usize, order: usize, weight: usize, start: i32, count: i32, topk: i32, cols: i32): void {
  for (let i = 0; i < count; i++) {
    const e = load<i32>(order + (<usize>(start + i) << 2));
    const w = ldf(weight, e), t = e / topk;
    for (let j = 0; j < cols; j++) {
      const p = out + (<usize>(t * cols + j) << 2);
      store<f32>(p, load<f32>(p) + w * ldf(y, i * cols + j));
    }
  }
}

/**
 * Rotary embedding from a table, DeepSeek's interleaved layout: in each of `count` vectors (x, x + stride
 * floats, ...), pair (2i, 2i+1) of its first dim values turns by (cos[i], sin[i]) — YaRN's frequencies
 * and attention factor are already in the table (engine/deepseek/rope.ts ropeAngles).
 */
export function rope_pairs(x: usize, count: i32, stride: i32, dim: i32, cos: usize, sin: usize): void {
  for (let v = 0; v < count; v++) {
    const p = x + (<usize>(v * stride) << 2);
    for (let i = 0; i < dim >> 1; i++) {
      const a = ldf(p, 2 * i), b = ldf(p, 2 * i + 1), c = ldf(cos, i), s = ldf(sin, i);
      store<f32>(p + (<usize>(2 * i) << 2), a * c - b * s);
      store<f32>(p + (<usize>(2 * i + 1) << 2), a * s + b * c);
    }
  }
}
