// MTP speculative decoding inside workerd, on the engine the Worker serves: the DeepSeek edge model
// loaded from Miniflare's R2 by dispatch/edge-hf.ts, greedy with speculation on and off on the same
// loaded model: identical tokens, and drafts were really made and verified; with the whole vocabulary
// and with a draft vocabulary (the manifest's draft_vocab file: engine/deepseek/draft-vocab.ts).
import { env } from 'cloudflare:workers';
import { expect, it } from 'vitest';
import kernels from '../../kernels-wasm/build/kernels.wasm';
import { loadHfEdgeModel } from '../../dispatch/edge-hf';
import { hfManifest } from '../../dispatch/edge-manifest';
import { DeepSeekEdgeModel } from '../../engine/deepseek/edge-model';
import { syntheticDeepSeekEdgeDir } from '../../engine/deepseek/edge-synthetic';
import { createWasmKernels } from '../../kernels-wasm/index';

/** Ids 0, 2, 4, …: half the synthetic edge vocabulary (272 ids). */
const EVEN_IDS = Array.from({ length: 136 }, (_, i) => 2 * i);

it.each([
  ['the whole vocabulary', null],
  ['a draft vocabulary', EVEN_IDS],
] as const)(
  'greedy tokens are the same with MTP on and off, and drafts are verified (%s)',
  async (_, ids) => {
    const id = ids ? 'ds-mtp-engine-listed' : 'ds-mtp-engine';
    for (const [name, bytes] of Object.entries(syntheticDeepSeekEdgeDir({ seed: 9 })))
      await env.MODELS.put(`${id}/${name}`, bytes);
    if (ids) await env.MODELS.put(`${id}/draft_vocab.json`, JSON.stringify({ ids }));
    const manifest = hfManifest.parse({
      id,
      format: 'hf',
      weights: ['model.safetensors'],
      tokenizer: 'tokenizer.json',
      tokenizer_config: 'tokenizer_config.json',
      ...(ids ? { draft_vocab: 'draft_vocab.json' } : {}),
      context_length: 128,
      created: 0,
    });
    const { engine } = await loadHfEdgeModel(
      env.MODELS,
      manifest,
      await createWasmKernels(kernels),
    );
    expect(engine).toBeInstanceOf(DeepSeekEdgeModel);
    const ds = engine as DeepSeekEdgeModel;
    expect(ds.model.draftVocabSize).toBe(ids ? ids.length : ds.config.vocabSize);
    const prompt = ds.tokenizer.encode('Draft, verify, accept or reject.');
    const greedy = async (speculative: boolean) => {
      ds.speculative = speculative;
      const ids: number[] = [];
      const opts = { maxTokens: 48, temperature: 0, topP: 1, stopAtEos: false };
      for await (const t of ds.generate(prompt, opts)) ids.push(t.id);
      return ids;
    };
    const off = await greedy(false);
    expect(ds.spec.drafted).toBe(0);
    const on = await greedy(true);
    expect(on).toEqual(off);
    expect(on).toHaveLength(48);
    expect(ds.spec.drafted).toBeGreaterThan(20); // one draft per step: at most 47 steps, at least 24
    console.log(
      `MTP in workerd: ${ds.spec.accepted}/${ds.spec.drafted} drafts accepted (random weights)`,
    );
  },
);
