// The edge DeepSeek engine restores MLA latent rows (engine/deepseek/edge-cache.ts): rows an origin-sized
// model computed (another WasmDeepSeekModel, 64-token steps where the edge takes 16), carried through a
// latent prompt-cache entry (f32, the codec the hand-off uses), start an edge generation whose greedy
// tokens equal a cold edge run's, with the restored positions reported as cached, MTP on and off.
import { describe, expect, it } from 'vitest';
import { latentShapeOf, restoreLatentRows } from '../../../engine/deepseek/edge-cache';
import { loadDeepSeekEdge } from '../../../engine/deepseek/edge-load';
import { syntheticDeepSeekEdgeDir } from '../../../engine/deepseek/edge-synthetic';
import { WasmDeepSeekModel } from '../../../engine/deepseek/wasm-model';
import type { GenerateOptions } from '../../../engine/llama/model';
import {
  BLOCK_TOKENS,
  decodeLatentEntry,
  encodeLatentEntry,
  type LatentRows,
} from '../../../engine/prompt-cache/index';
import { createWasmKernels } from '../../../kernels-wasm/index';
import { loadKernelsModule } from '../../../kernels-wasm/node';

const module = await loadKernelsModule();
const dir = syntheticDeepSeekEdgeDir({ seed: 11 });
const json = (name: string) => JSON.parse(new TextDecoder().decode(dir[name]));
const { engine } = loadDeepSeekEdge(
  await createWasmKernels(module),
  {
    config: json('config.json'),
    tokenizerJson: json('tokenizer.json'),
    tokenizerConfig: json('tokenizer_config.json'),
    weights: [dir['model.safetensors']],
  },
  { id: 'ds-edge', contextLength: 256 },
);
/** The origin's side: the same checkpoint, prefilled in 64-token steps (the CPU origin's chunk). */
const origin = new WasmDeepSeekModel(
  await createWasmKernels(module),
  { 'config.json': dir['config.json'], 'model.safetensors': dir['model.safetensors'] },
  { maxSeqLen: 256, maxBatch: 64, maxLogitRows: 1 },
);

const run = async (prompt: number[], opts: Partial<GenerateOptions> = {}) => {
  const gen = engine.generate(prompt, {
    maxTokens: 20,
    temperature: 0,
    topP: 1,
    stopAtEos: false,
    ...opts,
  });
  const ids: number[] = [];
  for (;;) {
    const r = await gen.next();
    if (r.done) return { ids, result: r.value };
    ids.push(r.value.id);
  }
};

/** The origin's rows of `prompt`'s whole blocks, each through an f32 latent entry and back. */
async function originBlocks(prompt: number[]): Promise<LatentRows[]> {
  for (let a = 0; a < prompt.length; a += 64)
    origin.step([{ slot: 0, tokens: prompt.slice(a, a + 64), startPos: a, wantLogits: false }]);
  const shape = latentShapeOf(origin);
  const { nLayers: L, kvLoraRank: C, ropeDim: R } = shape;
  const out: LatentRows[] = [];
  for (let start = 0; start + BLOCK_TOKENS <= prompt.length; start += BLOCK_TOKENS) {
    const n = BLOCK_TOKENS;
    const cKv = new Float32Array(L * n * C),
      kPe = new Float32Array(L * n * R);
    for (let l = 0; l < L; l++) {
      const { kv, pe } = origin.cacheRows(0, l);
      cKv.set(kv.subarray(start * C, (start + n) * C), l * n * C);
      kPe.set(pe.subarray(start * R, (start + n) * R), l * n * R);
    }
    const hash = crypto.getRandomValues(new Uint8Array(32));
    const rows = { ...shape, start, count: n, cKv, kPe };
    const back = await decodeLatentEntry(await encodeLatentEntry(rows, 'f32', hash), {
      chainHash: hash,
      shape,
      start,
      count: n,
    });
    if (!back.ok) throw new Error(back.reason);
    out.push(back.rows);
  }
  return out;
}

const words = 'prefill at the origin, decode at the edge, close to the user; '.repeat(8);
const prompt = engine.tokenizer.encode(words).slice(0, 150);

describe('the edge DeepSeek engine restores latent rows', () => {
  it("an origin's blocks through f32 entries: the cold run's greedy tokens, MTP off and on", async () => {
    expect(prompt.length).toBe(150);
    const rows = await originBlocks(prompt);
    expect(rows).toHaveLength(2);
    for (const speculative of [false, true]) {
      engine.speculative = speculative;
      const cold = await run(prompt);
      expect(cold.result.cachedTokens).toBeUndefined();
      const warm = await run(prompt, { restoreLatent: rows });
      expect(warm.ids).toEqual(cold.ids);
      expect(warm.result).toEqual({ ...cold.result, cachedTokens: 128 });
    }
  });

  it('a fully restored prompt still computes its last token', async () => {
    const exact = prompt.slice(0, 128);
    const rows = await originBlocks(exact);
    engine.speculative = false;
    const cold = await run(exact);
    const warm = await run(exact, { restoreLatent: rows });
    expect(warm.ids).toEqual(cold.ids);
    expect(warm.result.cachedTokens).toBe(127);
  });

  it('refuses rows out of order, of another shape, or past the prompt', async () => {
    const rows = await originBlocks(prompt);
    const slot = 0;
    const model = engine.model;
    expect(() => restoreLatentRows(model, slot, [rows[1]], 150)).toThrow(/start at 64/);
    expect(() => restoreLatentRows(model, slot, [{ ...rows[0], ropeDim: 3 }], 150)).toThrow(
      /latent shape/,
    );
    expect(() => restoreLatentRows(model, slot, rows, 100)).toThrow(/128 positions of a 100/);
    await expect(run(prompt, { restoreLatent: [rows[1]] })).rejects.toThrow(/start at 64/);
  });
});
