// The WASM router on the reference's hand-made cases (tests/engine/deepseek/gate.test.ts): group selection
// by top-2 sums, the bias steering selection but not weights, ties to the lower index; and the MoE plan.
import { describe, expect, it } from 'vitest';
import { createWasmKernels } from '../../kernels-wasm/index';
import { loadKernelsModule } from '../../kernels-wasm/node';
import { i32View } from '../../engine/deepseek/wasm-linear';

const module = await loadKernelsModule();
const logit = (p: number) => Math.log(p / (1 - p));
const METHOD = { greedy: 0, group_limited_greedy: 1, noaux_tc: 2 };

async function route(
  scores: number[],
  bias: number[] | null,
  o: {
    nGroup?: number;
    topkGroup?: number;
    topK?: number;
    scaling?: number;
    method?: keyof typeof METHOD;
  } = {},
) {
  const b = await createWasmKernels(module);
  const E = scores.length,
    K = o.topK ?? 2,
    nGroup = o.nGroup ?? 1;
  const logits = b.alloc(E),
    bp = bias ? b.alloc(E) : 0,
    idx = b.alloc(K),
    w = b.alloc(K),
    scratch = b.alloc(3 * E + 2 * nGroup);
  b.write(logits, Float32Array.from(scores, logit));
  if (bias) b.write(bp, Float32Array.from(bias));
  b.deepseek!.moeRoute(
    idx,
    w,
    logits,
    bp,
    scratch,
    E,
    K,
    nGroup,
    o.topkGroup ?? 1,
    METHOD[o.method ?? 'noaux_tc'],
    true,
    true,
    o.scaling ?? 1,
  );
  return { idx: Array.from(i32View(b, idx, K)), w: Array.from(b.f32(w, K)) };
}

describe('WASM router', () => {
  it('keeps the topk_group groups with the best top-2 sums, even if that drops the best expert', async () => {
    const r = await route([0.95, 0.05, 0.6, 0.6, 0.55, 0.55, 0.1, 0.1], null, {
      nGroup: 4,
      topkGroup: 2,
      topK: 3,
      scaling: 2.5,
    });
    expect(r.idx).toEqual([2, 3, 4]);
    const sum = 0.6 + 0.6 + 0.55;
    r.w.forEach((w, i) => expect(w).toBeCloseTo(([0.6, 0.6, 0.55][i] / sum) * 2.5, 6));
  });

  it('uses the bias to choose experts (and groups) but not to weight them', async () => {
    const r = await route([0.9, 0.8, 0.3, 0.2], [0, 0, 0.7, 0]);
    expect(r.idx).toEqual([2, 0]);
    expect(r.w[0]).toBeCloseTo(0.3 / 1.2, 6);
    expect(
      (await route([0.9, 0.8, 0.5, 0.5], [0, 0, 0.5, 0.5], { nGroup: 2, topkGroup: 1 })).idx,
    ).toEqual([2, 3]);
  });

  it('group_limited_greedy scores a group by its best expert; ties go to the lower index', async () => {
    // g0 {0.9, 0.1} max 0.9 beats g1 {0.8, 0.8} (top-2 sum would pick g1)
    expect(
      (
        await route([0.9, 0.1, 0.8, 0.8], null, {
          nGroup: 2,
          topkGroup: 1,
          method: 'group_limited_greedy',
        })
      ).idx,
    ).toEqual([0, 1]);
    expect((await route([0.9, 0.1, 0.8, 0.8], null, { nGroup: 2, topkGroup: 1 })).idx).toEqual([
      2, 3,
    ]);
    expect((await route([0.5, 0.5, 0.5, 0.5], null, { topK: 3, method: 'greedy' })).idx).toEqual([
      0, 1, 2,
    ]);
  });
});

describe('MoE plan', () => {
  it('groups entries by expert, stable in token order, with offsets', async () => {
    const b = await createWasmKernels(module);
    const idx = Int32Array.of(3, 0, 0, 2, 3, 1, 0, 3); // 4 tokens × top-2
    const ip = b.alloc(8),
      offsets = b.alloc(5),
      order = b.alloc(8);
    b.bytes!(ip, 32).set(new Uint8Array(idx.buffer));
    b.deepseek!.moePlan(offsets, order, ip, 4, 2, 4);
    expect(Array.from(i32View(b, offsets, 5))).toEqual([0, 3, 4, 5, 8]);
    expect(Array.from(i32View(b, order, 8))).toEqual([1, 2, 6, 5, 3, 0, 4, 7]);
  });
});
