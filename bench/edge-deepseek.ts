// The DeepSeek-V3-architecture edge model in workerd (Miniflare, the Worker runtime), loaded from R2 as
// the edge registry loads it (dispatch/edge-hf.ts): peak memory of load + generate (the workerd process's
// peak RSS over its baseline, and the WASM memory), and one-sequence decode tok/s with MTP speculative
// decoding on and off on the same loaded model, alternating, median of the rounds. Timing is from outside
// (workerd's clock stands still while code runs): 1 + D tokens minus 1 token, the same prompt.
// The model: the synthetic edge shape (random weights, a 16-token synthetic prompt), or --model <dir>, a
// model directory such as models/pystd-mla-moe (each round prompted with another held-out code snippet
// from its manifest's corpus: bench/bench-model.ts; rounds cycle through them).
//   npx tsx bench/edge-deepseek.ts [--model models/pystd-mla-moe] [--rounds 3] [--decode 64] [--vocab-129k]
//   --vocab-129k: memory only, the synthetic `small` shape with DeepSeek-V3's 129,280-id vocabulary (no MTP)
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { syntheticDeepSeekEdgeDir } from '../engine/deepseek/edge-synthetic';
import { heldoutSnippets } from './bench-model';
import { bundleWorker, memoryOf, resetPeak, startBenchWorker, workerdPid } from './edge-models';

const MIB = 2 ** 20;
const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    decode: { type: 'string', default: '64' },
    'vocab-129k': { type: 'boolean', default: false },
  },
});
const big = values['vocab-129k'];
const modelDir = values.model ? resolve(values.model) : null;
const DIR_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
/** Optional files of a model directory: the MTP draft's vocabulary (engine/deepseek/draft-vocab.ts). */
const OPTIONAL_FILES = ['draft_vocab.json'];
const id = modelDir ? basename(modelDir) : big ? 'ds-edge-129k-random' : 'deepseek-v3-edge-random';
const dir: Record<string, Uint8Array> = modelDir
  ? Object.fromEntries(
      DIR_FILES.concat(OPTIONAL_FILES.filter((f) => existsSync(join(modelDir, f)))).map((f) => [
        f,
        new Uint8Array(readFileSync(join(modelDir, f))),
      ]),
    )
  : syntheticDeepSeekEdgeDir({
      seed: 1,
      config: big ? { vocabSize: 129_280, numNextnPredictLayers: 0 } : {},
    });
/** The prompt of round r: a query string for the bench worker's /generate. */
const snippets = modelDir ? heldoutSnippets(modelDir, 16) : null;
const promptOf = (r: number) =>
  snippets ? `text=${encodeURIComponent(snippets[r % snippets.length])}` : 'prompt=16';

const mf = startBenchWorker(await bundleWorker());
const get = async (path: string) => (await mf.dispatchFetch(`http://bench${path}`)).json();
try {
  const bucket = await mf.getR2Bucket('MODELS');
  for (const [name, bytes] of Object.entries(dir)) await bucket.put(`${id}/${name}`, bytes);
  const manifest = {
    id,
    format: 'hf',
    weights: ['model.safetensors'],
    tokenizer: 'tokenizer.json',
    tokenizer_config: 'tokenizer_config.json',
    draft_vocab: dir['draft_vocab.json'] ? 'draft_vocab.json' : null,
    context_length: 256,
    created: 0,
  };
  await bucket.put(`${id}/model.json`, JSON.stringify(manifest));
  await (await mf.dispatchFetch('http://bench/noop')).text();
  const pid = workerdPid();
  const baseline = memoryOf(pid).rss;
  resetPeak(pid);
  const t0 = performance.now();
  const load = (await get(`/load?model=${id}`)) as { wasmBytes: number };
  const loadSeconds = (performance.now() - t0) / 1000;
  const peakLoad = memoryOf(pid).hwm;
  await get(`/generate?model=${id}&prompt=16&tokens=8`);
  const peakGenerate = memoryOf(pid).hwm;
  console.log(
    `${id}: weights file ${(dir['model.safetensors'].byteLength / MIB).toFixed(1)} MiB, WASM memory ${(load.wasmBytes / MIB).toFixed(1)} MiB, ` +
      `workerd RSS ${(baseline / MIB).toFixed(0)} → ${(peakLoad / MIB).toFixed(0)} (load) / ${(peakGenerate / MIB).toFixed(0)} MiB (generate): ` +
      `rise ${((Math.max(peakLoad, peakGenerate) - baseline) / MIB).toFixed(1)} MiB; load ${loadSeconds.toFixed(1)} s`,
  );
  if (!big) await speed(Number(values.rounds), Number(values.decode));
} finally {
  await mf.dispose();
}

async function timed(spec: 'on' | 'off', tokens: number, round = 0) {
  const t = performance.now();
  const q = `model=${id}&${promptOf(round)}&tokens=${tokens}&spec=${spec}`;
  const r = (await get(`/generate?${q}`)) as {
    ids: number[];
    spec: { drafted: number; accepted: number };
  };
  return { ms: performance.now() - t, ids: r.ids, spec: r.spec };
}

async function speed(rounds: number, decode: number): Promise<void> {
  const rates: Record<'on' | 'off', number[]> = { on: [], off: [] };
  const ids: Record<string, number[][]> = { on: [], off: [] };
  let before = (await timed('on', 1)).spec;
  let drafted = 0,
    accepted = 0;
  for (let r = 0; r < rounds; r++) {
    for (const spec of ['off', 'on'] as const) {
      const one = await timed(spec, 1, r);
      const full = await timed(spec, 1 + decode, r);
      rates[spec].push(decode / ((full.ms - one.ms) / 1000));
      ids[spec].push(full.ids);
      if (spec === 'on') {
        drafted += full.spec.drafted - before.drafted;
        accepted += full.spec.accepted - before.accepted;
      }
      before = full.spec;
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const same = JSON.stringify(ids.on) === JSON.stringify(ids.off);
  console.log(
    `${id}: decode tok/s (one sequence, greedy, ${decode} tokens after ${snippets ? 'a held-out code snippet' : 'a 16-token prompt'}, median of ${rounds}): ` +
      `MTP off ${median(rates.off).toFixed(1)} [${rates.off.map((x) => x.toFixed(1)).join(', ')}], ` +
      `MTP on ${median(rates.on).toFixed(1)} [${rates.on.map((x) => x.toFixed(1)).join(', ')}]; ` +
      `drafts accepted ${accepted}/${drafted} (${((100 * accepted) / Math.max(1, drafted)).toFixed(1)}%); ` +
      `MTP on / off ${(median(rates.on) / median(rates.off)).toFixed(2)}×; same greedy tokens: ${same}`,
  );
}
