// `npm run bench -- eplb` (alone: `npx tsx bench/eplb.ts [model] [set,set,...]`; EPLB_BENCH_MODEL,
// EPLB_BENCH_SETS): expert load and EPLB on the CPU backend with a model's real routing. Each prompt set
// (eplb-prompts.ts: code, comments only, numeric lines, English, Chinese) runs in batches of 8 sequences
// of 256 tokens, prefilled in one step, then 16 greedy decode steps, on the local backend: per-expert load
// per MoE layer. EPLB places from one window (24 documents) and is scored on another (24 other documents
// of the same set), as a rebalancer's placement serves the traffic after its window. Then the workload
// with the routed experts on worker threads (--ep 2 / 4): the routed-expert time of the prefill step
// (dispatch, the ranks' work, combine; the main thread waits for the slowest rank) and of a decode step.
import { existsSync } from 'node:fs';
import { parseDeepSeekConfig } from '../engine/deepseek/config';
import { CpuBackend } from '../origin/backend/cpu-backend';
import { readModelFiles } from '../origin/model/load';
import { loadOriginTokenizer } from '../origin/model/tokenizer';
import { PROMPT_SETS, promptDocs, setText, type PromptSet } from './eplb-prompts';
import { loadTable, placementsFor, placementTable, score, timeTable } from './eplb-tables';
import { runWorkload, type WorkloadShape } from './eplb-workload';

const TRAINED = 'models/pystd-mla-moe';
const SHAPE: WorkloadShape = { seqs: 8, prompt: 256, decode: 16 };
/** Batches of SHAPE per window: 3 × 8 documents × 272 tokens × top-k routed rows per layer. */
const BATCHES = 3;

export interface EplbBenchOptions {
  model?: string;
  sets?: PromptSet[];
  log?: (line: string) => void;
}

export async function benchEplb(o: EplbBenchOptions = {}): Promise<string> {
  const log = o.log ?? ((l: string) => console.error(l));
  const spec =
    o.model ??
    process.env.EPLB_BENCH_MODEL ??
    (existsSync(`${TRAINED}/config.json`) ? TRAINED : 'synthetic:small');
  const sets =
    o.sets ?? ((process.env.EPLB_BENCH_SETS?.split(',') as PromptSet[]) || [...PROMPT_SETS]);
  const { files, tokenizerDir, source } = readModelFiles(spec);
  const config = parseDeepSeekConfig(JSON.parse(new TextDecoder().decode(files['config.json'])));
  const tok = loadOriginTokenizer(tokenizerDir, config);
  const E = config.nRoutedExperts;
  const opts = {
    maxSlots: SHAPE.seqs,
    maxSeqLen: SHAPE.prompt + SHAPE.decode + 1,
    maxStepTokens: SHAPE.seqs * SHAPE.prompt,
  };
  const text = new Map(sets.map((s) => [s, tok.encode(setText(s))]));
  /** Batch `batch` of window `window` (2 windows, interleaved over the set's text). */
  const docs = (set: PromptSet, window: number, batch = 0) =>
    promptDocs(text.get(set)!, BATCHES * SHAPE.seqs, SHAPE.prompt, window, 2).slice(
      batch * SHAPE.seqs,
      (batch + 1) * SHAPE.seqs,
    );

  // 1. Per-expert load of each set, two windows each, on the local backend.
  const local = await CpuBackend.create(files, opts);
  const windowLoad = async (set: PromptSet, window: number) => {
    let sum: number[][] | null = null;
    for (let k = 0; k < BATCHES; k++) {
      const { load } = await runWorkload(local, docs(set, window, k), SHAPE);
      sum = sum ? sum.map((l, i) => l.map((c, e) => c + load[i][e])) : load;
    }
    return sum!;
  };
  const loads = new Map<PromptSet, { fit: number[][]; next: number[][] }>();
  for (const set of sets) {
    loads.set(set, { fit: await windowLoad(set, 0), next: await windowLoad(set, 1) });
    log(`eplb: ${set} load measured (${text.get(set)!.length} tokens of text)`);
  }
  const localMs = await runWorkload(local, docs(sets[0], 0), SHAPE);

  // 2. Rank max/mean of each placement, fitted on one window, scored on the next.
  const lines = [
    `Model \`${source}\` (${E} routed experts top-${config.numExpertsPerTok}); a window = ${BATCHES} batches of ${SHAPE.seqs} sequences × ${SHAPE.prompt} prompt tokens (prefilled in one step) + ${SHAPE.decode} greedy decode steps; the two windows of a set take alternate documents of its text.`,
    '',
    loadTable(loads),
    '',
    placementTable(loads, E),
  ];

  // 3. Routed-expert time with --ep on the most skewed set (by the even placement on 4 ranks).
  const evenOn = (w: { fit: number[][]; next: number[][] }) =>
    score(placementsFor(w.fit, E, 4)[0][1], w.next).mean;
  const skewed = [...loads.entries()].sort((a, b) => evenOn(b[1]) - evenOn(a[1]))[0][0];
  const times: Parameters<typeof timeTable>[0] = [];
  for (const ranks of [2, 4]) {
    const b = await CpuBackend.create(files, { ...opts, ep: ranks, epRedundant: 0 });
    const placements = placementsFor(loads.get(skewed)!.fit, E, ranks);
    const best = new Map<string, { prefill: number; decode: number; step: number }>();
    for (let rep = 0; rep < 3; rep++)
      // interleaved: the machine's load drifts between runs
      for (const [name, p] of placements) {
        await b.experts.pool!.place(p);
        const r = await runWorkload(b, docs(skewed, 1), SHAPE);
        const prev = best.get(name);
        best.set(name, {
          prefill: Math.min(prev?.prefill ?? Infinity, r.moePrefillMs),
          decode: Math.min(prev?.decode ?? Infinity, r.moeDecodeMs),
          step: Math.min(prev?.step ?? Infinity, r.decodeStepMs),
        });
      }
    await b.experts.pool!.close();
    for (const [name, t] of best) times.push({ ranks, name, ...t });
    log(`eplb: --ep ${ranks} timed`);
  }
  lines.push(
    '',
    `Routed-expert time with --ep on \`${skewed}\` (the most skewed set), placements fitted on its first window, run on its second; best of 3 interleaved runs. Local backend: prefill step ${localMs.prefillStepMs.toFixed(1)} ms, decode step ${localMs.decodeStepMs.toFixed(2)} ms.`,
    '',
    timeTable(times),
  );
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchEplb({
    model: process.argv[2],
    sets: process.argv[3]?.split(',') as PromptSet[] | undefined,
  })
    .then((t) => {
      console.log(t);
      process.exit(0); // the EP pools' workers are closed; tsx keeps a handle
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
