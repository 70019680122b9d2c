// Structured output, measured in the real engine: decode tok/s of LlamaModel.generate with and
// without a JSON Schema constraint on edge-model shapes (random weights, q8, synthetic 32k vocab),
// and the per-token constraint time (fillMask + applyMask + accept) as a fraction of a decode step.
// Run alone: tsx bench/structured.ts (or `npm run bench -- structured`).
import { applyMask, Grammar, TokenMatcher } from '../engine/grammar/index';
import { specToIR } from '../engine/grammar/grammar';
import { STORIES110M_SHAPE, STORIES15M_SHAPE, type LlamaModel } from '../engine/index';
import { loadModelDir } from '../engine/llama/model-dir';
import { vocabOf, type Constraint } from '../engine/sampling/constraint';
import { createNodeKernels } from '../kernels-wasm/node';
import { readModelDir } from '../tools/model-files';
import { ensureModelDir } from './edge-models';

/** A string of ≥ 600 characters: the output cannot finish within the measured tokens. */
const SCHEMA = {
  type: 'object',
  properties: {
    title: { type: 'string', maxLength: 20 },
    tags: { type: 'array', items: { enum: ['a', 'b', 'c'] }, maxItems: 3 },
    story: { type: 'string', minLength: 600 },
  },
  required: ['title', 'tags', 'story'],
};
const TOKENS = 64;

/** Times the constraint's calls; the sampler's applyMask is timed apart (timeApplyMask). */
class Timed implements Constraint {
  ms = 0;
  constructor(private readonly m: TokenMatcher) {}
  get maskWords() {
    return this.m.maskWords;
  }
  fillMask(mask: Uint32Array) {
    const t = performance.now();
    const ok = this.m.fillMask(mask);
    this.ms += performance.now() - t;
    return ok;
  }
  accept(id: number) {
    const t = performance.now();
    const ok = this.m.accept(id);
    this.ms += performance.now() - t;
    return ok;
  }
  isFinished() {
    return this.m.isFinished();
  }
}

async function decodeRate(
  model: LlamaModel,
  temperature: number,
  constraint?: Constraint,
): Promise<number> {
  let t0 = 0;
  let count = 0;
  for await (const _ of model.generate([1, 400, 500], {
    maxTokens: TOKENS + 1,
    temperature,
    topP: 0.95,
    seed: 3,
    stopAtEos: false,
    constraint,
  })) {
    void _;
    if (count++ === 0) t0 = performance.now();
  }
  return (count - 1) / ((performance.now() - t0) / 1000);
}

function timeApplyMask(vocabSize: number, mask: Uint32Array): number {
  const logits = new Float32Array(vocabSize).fill(1);
  const n = 200;
  const t = performance.now();
  for (let i = 0; i < n; i++) applyMask(logits, mask);
  return (performance.now() - t) / n;
}

export async function benchStructured(opts: { log?: (l: string) => void; runs?: number } = {}) {
  const { log = () => {}, runs = 3 } = opts;
  const rows: string[] = [
    '| model | sampling | decode tok/s free (best) | constrained: 1st run (fresh masks) | constrained (best) | constraint ms/token fresh / cached | applyMask ms | cached mask share of a free step |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [name, shape] of [
    ['stories15M q8', { ...STORIES15M_SHAPE, seqLen: 1024 }],
    ['stories110M q8', STORIES110M_SHAPE],
  ] as const) {
    log(`structured: ${name}`);
    const dir = ensureModelDir(`${name.split(' ')[0]}-q8`, shape, 'q8');
    const { model } = await loadModelDir(await createNodeKernels(), readModelDir(dir), {
      maxSessions: 1,
    });
    const t = performance.now();
    const vocab = vocabOf(model.tokenizer);
    const vocabMs = performance.now() - t;
    for (const temperature of [0, 0.8]) {
      // free and constrained runs interleaved, so machine load falls on both alike; a grammar
      // compiled afresh (not the LRU's), so the first constrained run computes every mask
      const grammar = new Grammar(specToIR({ type: 'json_schema', schema: SCHEMA }), 64);
      const perToken: number[] = [];
      const rates: number[] = [];
      let free = 0;
      for (let r = 0; r < runs; r++) {
        free = Math.max(free, await decodeRate(model, temperature));
        const c = new Timed(new TokenMatcher(grammar, vocab));
        rates.push(await decodeRate(model, temperature, c));
        perToken.push(c.ms / TOKENS);
      }
      const mask = new Uint32Array((vocab.size + 31) >>> 5);
      new TokenMatcher(grammar, vocab).fillMask(mask);
      const apply = timeApplyMask(model.config.vocabSize, mask);
      const cached = Math.min(...perToken.slice(1));
      const share = (cached + apply) / (1000 / free);
      rows.push(
        `| ${name} | ${temperature === 0 ? 'greedy' : 'T 0.8, top_p 0.95'} | ${free.toFixed(1)} | ${rates[0].toFixed(1)} | ${Math.max(...rates).toFixed(1)} | ${perToken[0].toFixed(3)} / ${cached.toFixed(3)} | ${apply.toFixed(3)} | ${(share * 100).toFixed(1)}% |`,
      );
    }
    log(`  vocab built in ${vocabMs.toFixed(0)} ms; ${rows.slice(-2).join('\n')}`);
  }
  return rows.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`)
  console.log(await benchStructured({ log: (l) => console.error(l) }));
