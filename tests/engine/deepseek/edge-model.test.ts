// The edge DeepSeek engine (engine/deepseek/edge-model.ts) in Node, on the same code the Worker runs:
// greedy tokens equal the float64 reference's, MTP speculative decoding leaves greedy output unchanged,
// sampling under speculation is seeded and valid, and stop strings, logprobs and max_tokens behave as
// the Llama engine's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDeepSeekEdge } from '../../../engine/deepseek/edge-load';
import { syntheticDeepSeekEdgeDir } from '../../../engine/deepseek/edge-synthetic';
import { DeepSeekReferenceModel } from '../../../engine/deepseek/reference';
import { loadDeepSeekModel } from '../../../engine/deepseek/weights';
import type { GenerateOptions } from '../../../engine/llama/model';
import { createWasmKernels } from '../../../kernels-wasm/index';
import { loadKernelsModule } from '../../../kernels-wasm/node';

const module = await loadKernelsModule();
const dir = syntheticDeepSeekEdgeDir({ seed: 3 });
const json = (name: string) => JSON.parse(new TextDecoder().decode(dir[name]));
const load = async (mtp = true) =>
  loadDeepSeekEdge(
    await createWasmKernels(module),
    {
      config: json('config.json'),
      tokenizerJson: json('tokenizer.json'),
      tokenizerConfig: json('tokenizer_config.json'),
      weights: [dir['model.safetensors']],
    },
    { id: 'ds-edge', contextLength: 128, mtp },
  );
const run = async (
  engine: Awaited<ReturnType<typeof load>>['engine'],
  prompt: number[],
  opts: Partial<GenerateOptions> = {},
) => {
  const gen = engine.generate(prompt, {
    maxTokens: 24,
    temperature: 0,
    topP: 1,
    stopAtEos: false,
    ...opts,
  });
  const tokens = [];
  for (;;) {
    const r = await gen.next();
    if (r.done) return { tokens, result: r.value };
    tokens.push(r.value);
  }
};

const { engine } = await load();
const prompt = engine.tokenizer.encode('The edge runs a mixture of experts.');

describe('the edge DeepSeek engine', () => {
  it('greedy tokens equal the float64 reference on the same checkpoint', async () => {
    engine.speculative = false;
    const got = (await run(engine, prompt)).tokens.map((t) => t.id);
    const files = {
      'config.json': dir['config.json'],
      'model.safetensors': dir['model.safetensors'],
    };
    const want = new DeepSeekReferenceModel(loadDeepSeekModel(files), {
      maxSeqLen: 128,
    }).generateGreedy(prompt, 24);
    expect(got).toEqual(want);
  });

  it('MTP speculative decoding: the same greedy tokens and text, with drafts verified', async () => {
    engine.speculative = false;
    const off = await run(engine, prompt, { maxTokens: 40 });
    engine.speculative = true;
    const before = engine.spec.drafted;
    const on = await run(engine, prompt, { maxTokens: 40 });
    expect(on.tokens.map((t) => t.id)).toEqual(off.tokens.map((t) => t.id));
    expect(on.tokens.map((t) => t.text).join('')).toEqual(off.tokens.map((t) => t.text).join(''));
    expect(on.result).toEqual(off.result);
    expect(engine.spec.drafted - before).toBeGreaterThan(0);
  });

  it('sampling under speculation: seeded, reproducible, valid ids, logprobs of the chosen token', async () => {
    engine.speculative = true;
    const opts = { temperature: 0.9, topP: 0.95, seed: 7, logprobs: 2 };
    const a = await run(engine, prompt, opts);
    const b = await run(engine, prompt, opts);
    expect(a.tokens.map((t) => t.id)).toEqual(b.tokens.map((t) => t.id));
    expect(a.tokens).toHaveLength(24);
    for (const t of a.tokens) {
      expect(t.id).toBeGreaterThanOrEqual(0);
      expect(t.id).toBeLessThan(engine.config.vocabSize);
      expect(t.logprobs?.top).toHaveLength(2);
      expect(t.logprobs!.logprob).toBeLessThanOrEqual(0);
    }
  });

  it('stop strings end the text before them; max_tokens counts (MTP off and on)', async () => {
    for (const speculative of [false, true]) {
      engine.speculative = speculative;
      const full = await run(engine, prompt, { maxTokens: 30 });
      const text = full.tokens.map((t) => t.text).join('');
      expect(full.result).toEqual({
        finishReason: 'length',
        promptTokens: prompt.length,
        completionTokens: 30,
      });
      const stop = text.slice(10, 12);
      const cut = await run(engine, prompt, { maxTokens: 30, stop: [stop] });
      expect(cut.result.finishReason).toBe('stop');
      expect(cut.tokens.map((t) => t.text).join('')).toBe(text.slice(0, text.indexOf(stop)));
    }
  });

  it('one latent cache: a second generation waits for the first; prompt-cache options are refused', async () => {
    engine.speculative = true;
    const [x, y] = await Promise.all([run(engine, prompt), run(engine, prompt)]);
    expect(x.tokens.map((t) => t.id)).toEqual(y.tokens.map((t) => t.id));
    await expect(run(engine, prompt, { restore: [{} as never] })).rejects.toThrow(/prompt cache/);
  });
});

describe('the edge DeepSeek engine on the trained checkpoint (models/pystd-mla-moe)', () => {
  it('MTP on, over its draft vocabulary: most drafts stand and greedy is unchanged', async () => {
    const read = (f: string) => new Uint8Array(readFileSync(join('models/pystd-mla-moe', f)));
    const text = (f: string) => JSON.parse(new TextDecoder().decode(read(f))) as object;
    const { engine: trained } = await loadDeepSeekEdge(
      await createWasmKernels(module),
      {
        config: text('config.json'),
        tokenizerJson: text('tokenizer.json'),
        tokenizerConfig: text('tokenizer_config.json'),
        draftVocab: text('draft_vocab.json'),
        weights: [read('model.safetensors')],
      },
      { id: 'pystd-mla-moe', contextLength: 256, mtp: true },
    );
    const code = trained.tokenizer.encode('def read_config(path):\n    with open(path) as f:\n');
    trained.speculative = false;
    const off = await run(trained, code, { maxTokens: 48 });
    trained.speculative = true;
    const before = { ...trained.spec };
    const on = await run(trained, code, { maxTokens: 48 });
    expect(on.tokens.map((t) => t.id)).toEqual(off.tokens.map((t) => t.id));
    expect(on.result).toEqual(off.result);
    const drafted = trained.spec.drafted - before.drafted,
      accepted = trained.spec.accepted - before.accepted;
    console.log(`edge MTP on the trained checkpoint: ${accepted}/${drafted} drafts accepted`);
    // random MTP weights accept about one in 40; a trained module most (held-out: 0.63)
    expect(accepted / drafted).toBeGreaterThan(0.3);
  });
});
