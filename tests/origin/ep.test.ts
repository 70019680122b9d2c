// Expert parallelism (--ep N) against the in-process CPU backend: the same steps give bit-identical
// logits and greedy tokens whatever the rank count, the redundant slots and the placement — including a
// placement swapped in between steps (EPLB from the measured load). The combine adds experts' outputs in
// expert order on the main thread, and a replica computes its rows with the same bytes and kernels, so
// nothing but the thread a row was computed on changes. Also: every routed token is counted.
import { afterAll, describe, expect, it } from 'vitest';
import { argmax } from '../../engine/deepseek/ops';
import { CpuBackend } from '../../origin/backend/cpu-backend';
import type { StepSequence } from '../../origin/backend/step-backend';
import { placeExperts } from '../../origin/ep/eplb';
import { syntheticFiles } from './reference-text';

const files = syntheticFiles('small'); // 16 routed experts top-4 in 4 groups, 3 MoE layers
const prompts = [
  Array.from({ length: 40 }, (_, i) => (i * 37 + 11) % 5000),
  [0, 100, 101, 102, 103],
  Array.from({ length: 9 }, (_, i) => (i * 5 + 300) % 5000),
];
const backends: CpuBackend[] = [];
afterAll(async () => {
  for (const b of backends) await b.experts.pool?.close();
});

const create = async (ep: number, epRedundant: number) => {
  const b = await CpuBackend.create(files, {
    maxSlots: 3,
    maxSeqLen: 128,
    maxStepTokens: 64,
    ep,
    epRedundant,
  });
  backends.push(b);
  return b;
};

/** Prefill every prompt in one step, then greedy-decode all of them together; every step's logits. */
async function run(b: CpuBackend, steps: number, between?: (i: number) => Promise<void>) {
  const slots = prompts.map(() => b.allocate()!);
  const out: Float32Array[][] = [];
  let batch: StepSequence[] = prompts.map((p, i) => ({
    slot: slots[i],
    tokens: p,
    startPos: 0,
    wantLogits: true,
  }));
  const pos = prompts.map((p) => p.length);
  for (let i = 0; i < steps; i++) {
    await between?.(i);
    const logits = (await b.step(batch)).map((l) => l.slice());
    out.push(logits);
    batch = logits.map((l, s) => ({
      slot: slots[s],
      tokens: [argmax(l)],
      startPos: pos[s]++,
      wantLogits: true,
    }));
  }
  slots.forEach((s) => b.free(s));
  return out;
}

describe('expert parallelism', () => {
  let local: Float32Array[][];

  it('counts every routed token: per layer, topK per token', async () => {
    const b = await create(0, 0);
    local = await run(b, 6);
    const tokens = prompts.reduce((a, p) => a + p.length, 0) + 5 * prompts.length;
    const load = b.experts.stats.snapshot();
    expect(load.map((l) => l.layer)).toEqual([1, 2, 3]);
    for (const l of load) {
      expect(l.tokens).toBe(4 * tokens);
      expect(l.imbalance).toBeGreaterThanOrEqual(1);
    }
  });

  // Each rank is a worker thread that loads TypeScript through tsx: few combinations, to keep it short.
  it.each([
    [1, 0],
    [3, 1],
  ])('--ep %i --ep-redundant %i: logits bit-identical to the local backend', async (ep, red) => {
    const b = await create(ep, red);
    const got = await run(b, 6);
    got.forEach((step, i) =>
      step.forEach((l, s) => expect(Array.from(l)).toEqual(Array.from(local[i][s]))),
    );
  });

  it('stays bit-identical when EPLB placements from the measured load are swapped in between steps', async () => {
    const b = await create(2, 1);
    const pool = b.experts.pool!;
    const got = await run(b, 6, async (i) => {
      if (i === 0) return;
      const load = b.experts.stats.snapshot();
      // Alternate: EPLB from the load, then its reverse (the lightest experts replicated).
      const placements = load.map((l) =>
        placeExperts(i % 2 ? l.counts : l.counts.map((c) => 1 / (1 + c)), 2, 1),
      );
      await pool.place(placements);
    });
    got.forEach((step, i) =>
      step.forEach((l, s) => expect(Array.from(l)).toEqual(Array.from(local[i][s]))),
    );
  });
});
