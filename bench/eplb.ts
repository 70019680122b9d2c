// `npm run bench -- eplb`: expert load and EPLB on the CPU backend (synthetic `small`: 16 routed experts
// top-4, 3 MoE layers; random weights, whose routers still prefer some experts). Prompt sets that load
// experts unevenly (a narrow band of token ids, repeated) run on the local backend to measure per-expert
// load; then, per EP configuration: the max/mean rank load that placement gives on that load (without
// EPLB: the even placement; with it: 0–2 redundant slots per rank), and the decode-step time of the same
// workload with the routed experts on worker threads (--ep), against the local backend.
import { argmax } from '../engine/deepseek/ops';
import { CpuBackend } from '../origin/backend/cpu-backend';
import type { StepSequence } from '../origin/backend/step-backend';
import { placeExperts, rankImbalance, rankLoadOf } from '../origin/ep/eplb';
import { readModelFiles } from '../origin/model/load';

const SEQS = 8,
  PROMPT = 48,
  DECODE = 12;

/** Narrow-band prompts: ids from a few hundred, so the same experts keep winning. */
const prompts = Array.from({ length: SEQS }, (_, s) =>
  Array.from({ length: PROMPT }, (_, i) => 1000 + ((s * 7 + i * 13) % 97)),
);

/** Prefill all, then DECODE greedy steps of all; returns mean decode-step ms. */
async function workload(b: CpuBackend): Promise<number> {
  const slots = prompts.map(() => b.allocate()!);
  let batch: StepSequence[] = prompts.map((p, i) => ({
    slot: slots[i],
    tokens: p,
    startPos: 0,
    wantLogits: true,
  }));
  const pos = prompts.map((p) => p.length);
  let ms = 0;
  for (let i = 0; i <= DECODE; i++) {
    const t = performance.now();
    const logits = await b.step(batch);
    if (i > 0) ms += performance.now() - t; // step 0 is the prefill
    batch = logits.map((l, s) => ({
      slot: slots[s],
      tokens: [argmax(l)],
      startPos: pos[s]++,
      wantLogits: true,
    }));
  }
  slots.forEach((s) => b.free(s));
  return ms / DECODE;
}

export async function benchEplb(log: (s: string) => void = console.error): Promise<string> {
  const { files } = readModelFiles('synthetic:small', 1);
  const opts = { maxSlots: SEQS, maxSeqLen: 128, maxStepTokens: SEQS * PROMPT };
  const local = await CpuBackend.create(files, opts);
  await workload(local); // warm-up, and the measured load
  const load = local.experts.stats.snapshot();
  local.experts.stats.reset();
  const localMs = Math.min(await workload(local), await workload(local));
  log(`local decode step ${localMs.toFixed(2)} ms`);
  const lines = [
    `Expert load per layer (max/mean over 16 experts): ${load.map((l) => `layer ${l.layer} ${l.imbalance.toFixed(2)}`).join(', ')}.`,
    '',
    '| ranks | placement | redundant/rank | rank max/mean (mean of layers) | worst layer | decode step ms (--ep) | vs local |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const ranks of [2, 4]) {
    const even = placeExperts(new Array<number>(16).fill(1), ranks, 0);
    const rows: [string, number, ReturnType<typeof placeExperts>[]][] = [
      ['even (no EPLB)', 0, load.map(() => even)],
      ...[0, 1, 2].map(
        (red) =>
          ['EPLB', red, load.map((l) => placeExperts(l.counts, ranks, red))] as [
            string,
            number,
            ReturnType<typeof placeExperts>[],
          ],
      ),
    ];
    for (const [name, red, placements] of rows) {
      const imb = placements.map((p, i) => rankImbalance(rankLoadOf(p, load[i].counts)));
      const mean = imb.reduce((a, b) => a + b, 0) / imb.length;
      let ms = NaN;
      if (ranks === 2) {
        const b = await CpuBackend.create(files, { ...opts, ep: ranks, epRedundant: red });
        await b.experts.pool!.place(placements);
        await workload(b);
        ms = Math.min(await workload(b), await workload(b));
        await b.experts.pool!.close();
        log(`ep ${ranks} ${name} r${red}: ${ms.toFixed(2)} ms`);
      }
      const t = Number.isNaN(ms) ? '—' : ms.toFixed(2);
      const vs = Number.isNaN(ms) ? '—' : `${(localMs / ms).toFixed(2)}×`;
      lines.push(
        `| ${ranks} | ${name} | ${red} | ${mean.toFixed(3)} | ${Math.max(...imb).toFixed(3)} | ${t} | ${vs} |`,
      );
    }
  }
  lines.push(
    '',
    `Local backend (no --ep): decode step ${localMs.toFixed(2)} ms (${SEQS} sequences).`,
  );
  return lines.join('\n');
}
