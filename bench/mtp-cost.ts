// What one MTP speculative step costs against a plain decode step, piece by piece, on the WASM DeepSeek
// model (the edge's and the origin CPU backend's code) for a model directory: a plain step (1 token,
// 1 row of logits), a verify step (2 tokens, 2 rows), the MTP module over 1 or 2 confirmed positions
// with its draft logits, and the head alone. Each piece is timed interleaved with the others (median of
// rounds), so load drift hits all alike. With the acceptance rate a of greedy drafts, one sequence
// decodes 1 + a tokens per speculative step:
//   predicted speed-up = (1 + a) · plain / (verify + (1 − a) · draft(1) + a · draft(2)),
// verify being (1 − a) · the step with row 0's head + a · with both rows' (the edge's lazy head), or the
// step with both rows' head at once. The draft's head scores the directory's draft_vocab.json ids when it
// has one (engine/deepseek/draft-vocab.ts).
//   npx tsx bench/mtp-cost.ts [model dir, default models/pystd-mla-moe] [--rounds 30] [--acceptance a]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DRAFT_VOCAB_FILE } from '../engine/deepseek/draft-vocab';
import { WasmDeepSeekModel } from '../engine/deepseek/wasm-model';
import { loadKernelsModule } from '../kernels-wasm/node';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '30' },
    acceptance: { type: 'string' },
    reps: { type: 'string', default: '20' },
  },
});
const dir = positionals[0] ?? 'models/pystd-mla-moe';
const files: Record<string, Uint8Array> = {};
for (const f of readdirSync(dir))
  if (f === 'config.json' || f === DRAFT_VOCAB_FILE || f.endsWith('.safetensors'))
    files[f] = new Uint8Array(readFileSync(join(dir, f)));
const model = await WasmDeepSeekModel.load(await loadKernelsModule(), files, {
  maxSeqLen: 512,
  maxBatch: 16,
  maxLogitRows: 2,
  mtp: true,
});
if (!model.hasMtp) throw new Error(`${dir} has no MTP weights`);
const P = 64; // a prompt's worth of filled cache rows, so attention reads a realistic context
const prompt = Array.from({ length: P }, (_, i) => 10 + ((i * 131) % 1000));
for (let a = 0; a < P; a += 16)
  model.step([{ slot: 0, tokens: prompt.slice(a, a + 16), startPos: a, wantLogits: false }]);

const seq = (tokens: number[], logits: 'none' | 'last' | 'all') => ({
  slot: 0,
  tokens,
  startPos: P,
  wantLogits: logits !== 'none',
  allLogits: logits === 'all',
});
const pieces: Record<string, () => void> = {
  'plain step (1 token, 1 logits row)': () => model.step([seq([5], 'last')]),
  'plain step without logits': () => model.step([seq([5], 'none')]),
  'verify step (2 tokens, 2 logits rows)': () => model.step([seq([5, 6], 'all')]),
  'verify step (2 tokens, 1 logits row)': () => model.step([seq([5, 6], 'last')]),
  'verify step, head on row 0 (firstLogits)': () =>
    model.step([{ ...seq([5, 6], 'last'), firstLogits: true }]),
  'verify step, head on row 0, then row 1 (draft stood)': () => {
    model.step([{ ...seq([5, 6], 'last'), firstLogits: true }]);
    model.rowLogits([1]);
  },
  'MTP over 1 position + draft logits': () => {
    model.step([seq([5], 'none')]);
    model.draft([{ slot: 0, startPos: P, hiddenRow: 0, nextTokens: [7], wantLogits: true }]);
  },
  'MTP over 2 positions + draft logits': () => {
    model.step([seq([5, 6], 'none')]);
    model.draft([{ slot: 0, startPos: P, hiddenRow: 0, nextTokens: [6, 7], wantLogits: true }]);
  },
};
const reps = Number(values.reps);
const times: Record<string, number[]> = Object.fromEntries(Object.keys(pieces).map((k) => [k, []]));
for (let r = 0; r < Number(values.rounds); r++)
  for (const [name, run] of Object.entries(pieces)) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) run();
    times[name].push((performance.now() - t) / reps);
  }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
const names = Object.keys(pieces);
// the MTP pieces ran a main step without logits first: subtract it
const stepNoLogits1 = ms[names[1]];
const draft1 = ms[names[6]] - stepNoLogits1;
const draft2 = ms[names[7]] - (ms[names[3]] - (ms[names[0]] - stepNoLogits1)); // 2-token step, no logits
console.log(
  `${dir}: median ms of ${values.rounds} rounds × ${reps} reps, after a ${P}-token prompt; ` +
    `the draft's head scores ${model.draftVocabSize} of ${model.config.vocabSize} ids`,
);
console.log('| piece | ms |\n| --- | ---: |');
for (const n of names) console.log(`| ${n} | ${ms[n].toFixed(3)} |`);
console.log(`| head alone (1 row) | ${(ms[names[0]] - stepNoLogits1).toFixed(3)} |`);
console.log(
  `| MTP draft over 1 / 2 positions (step subtracted) | ${draft1.toFixed(3)} / ${draft2.toFixed(3)} |`,
);
const plain = ms[names[0]],
  verify = ms[names[2]];
for (const a of values.acceptance ? [Number(values.acceptance)] : [0.3, 0.5, 0.7, 0.9]) {
  const drafts = (1 - a) * draft1 + a * draft2;
  const eager = verify + drafts; // both rows' logits in the verify step
  const lazy = (1 - a) * ms[names[4]] + a * ms[names[5]] + drafts; // row 1's only when the draft stood
  const x = (cost: number) => (((1 + a) * plain) / cost).toFixed(2);
  console.log(
    `acceptance ${a}: predicted one-sequence speed-up ${x(lazy)}× (head on both verify rows at once: ${x(eager)}×)`,
  );
}

// Why a verify step costs what it does: the step without logits (attention + MLA + MoE, "the body") over
// n tokens of one sequence. Speculation pays where n tokens cost about one (a memory-bound step); where
// each token's arithmetic is most of the step, n tokens cost about n.
const body: string[] = [];
for (const n of [1, 2, 4, 8, 16]) {
  const tokens = Array.from({ length: n }, (_, i) => 5 + i);
  const run = () => model.step([seq(tokens, 'none')]);
  const ts: number[] = [];
  for (let r = 0; r < Number(values.rounds); r++) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) run();
    ts.push((performance.now() - t) / reps);
  }
  const m = median(ts);
  body.push(`| ${n} | ${m.toFixed(3)} | ${(m / n).toFixed(3)} |`);
}
console.log(
  '\n| tokens in the step (one sequence) | body ms | ms per token |\n| ---: | ---: | ---: |\n' +
    body.join('\n'),
);
