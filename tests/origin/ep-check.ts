// Run by ep.test.ts as its own process (`tsx tests/origin/ep-check.ts`): the EP rank workers load their
// TypeScript through tsx, which works from a tsx process but stalls inside vitest's fork. Steps the same
// prompts on the local CPU backend and on EP configurations, and prints one JSON line of comparisons.
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
const STEPS = 6;

/** Prefill every prompt in one step, then greedy-decode all together; every step's logits. */
async function run(b: CpuBackend, between?: (i: number) => Promise<void>) {
  const slots = prompts.map(() => b.allocate()!);
  const out: Float32Array[][] = [];
  let batch: StepSequence[] = prompts.map((p, i) => ({
    slot: slots[i],
    tokens: p,
    startPos: 0,
    wantLogits: true,
  }));
  const pos = prompts.map((p) => p.length);
  for (let i = 0; i < STEPS; i++) {
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

function maxDiff(a: Float32Array[][], b: Float32Array[][]): number {
  let d = 0;
  a.forEach((step, i) =>
    step.forEach((l, s) => l.forEach((v, k) => (d = Math.max(d, Math.abs(v - b[i][s][k]))))),
  );
  return d;
}
const greedy = (r: Float32Array[][]) => r.map((step) => step.map((l) => argmax(l)));
const create = (ep: number, epRedundant: number) =>
  CpuBackend.create(files, { maxSlots: 3, maxSeqLen: 128, maxStepTokens: 64, ep, epRedundant });

const local0 = await create(0, 0);
const local = await run(local0);
const tokens = prompts.reduce((a, p) => a + p.length, 0) + (STEPS - 1) * prompts.length;
const result: Record<string, unknown> = { tokens, load: local0.experts.stats.snapshot() };
const configs: { name: string; ep: number; red: number; swap?: boolean }[] = [
  { name: 'ep1', ep: 1, red: 0 },
  { name: 'ep2', ep: 2, red: 0 },
  { name: 'ep3r1', ep: 3, red: 1 },
  { name: 'ep2r1-swaps', ep: 2, red: 1, swap: true },
];
for (const c of configs) {
  const b = await create(c.ep, c.red);
  const pool = b.experts.pool!;
  let swaps = 0;
  const got = await run(b, async (i) => {
    if (!c.swap || i === 0) return;
    // Alternate: EPLB from the measured load, then from its inverse (the lightest experts replicated).
    const load = b.experts.stats.snapshot();
    await pool.place(
      load.map((l) =>
        placeExperts(i % 2 ? l.counts : l.counts.map((n) => 1 / (1 + n)), c.ep, c.red),
      ),
    );
    swaps++;
  });
  result[c.name] = {
    maxDiff: maxDiff(got, local),
    sameGreedy: JSON.stringify(greedy(got)) === JSON.stringify(greedy(local)),
    swaps,
  };
  await pool.close();
}
console.log(JSON.stringify(result));
