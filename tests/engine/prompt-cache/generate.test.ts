// generate()'s prompt-cache contract on a synthetic model: restored rows must fit the model and
// leave the last prompt token to compute; capture sees exactly the rows a cold run computed, and
// only when prefill completed; a restore with the captured rows gives the cold run's tokens.
import { describe, expect, it } from 'vitest';
import { LlamaModel, sliceKvRows, syntheticLlama2cCheckpoint, syntheticLlama2cTokenizer, type GenerateOptions, type KvRows } from '../../../engine/index';
import { createNodeKernels } from '../../../kernels-wasm/node';
import { collect } from '../helpers';

const shape = { dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKvHeads: 2, vocabSize: 300, seqLen: 256 };
const model = LlamaModel.fromLlama2c(await createNodeKernels(), syntheticLlama2cCheckpoint(shape, 5), syntheticLlama2cTokenizer(300), { maxSessions: 2 });
const prompt = [1, ...Array.from({ length: 140 }, (_, i) => 3 + ((i * 37) % 290))];
const greedy = (over: Partial<GenerateOptions> = {}): GenerateOptions => ({ maxTokens: 12, temperature: 0, topP: 1, stopAtEos: false, ...over });

async function capture(from: number, to: number, over: Partial<GenerateOptions> = {}) {
  let rows: KvRows | null = null;
  const run = await collect(model.generate(prompt, greedy({ capture: { from, to, rows: (r) => (rows = r) }, ...over })));
  return { run, rows: rows as KvRows | null };
}

describe('restore and capture', () => {
  it('a restore of the captured rows gives the cold tokens, and reports them as cached', async () => {
    const { run: cold, rows } = await capture(0, 128);
    expect(rows).toMatchObject({ start: 0, count: 128, nLayers: 2, nKvHeads: 2, headDim: 8 });
    expect(cold.result.cachedTokens).toBeUndefined();
    const warm = await collect(model.generate(prompt, greedy({ restore: [rows!] })));
    expect(warm.tokens.map((t) => t.id)).toEqual(cold.tokens.map((t) => t.id));
    expect(warm.result).toEqual({ ...cold.result, cachedTokens: 128 });
  });

  it('a restore of the whole prompt computes only its last token (its row is computed again)', async () => {
    const ids = prompt.slice(0, 128);
    let rows: KvRows | null = null;
    const cold = await collect(model.generate(ids, greedy({ capture: { from: 0, to: 128, rows: (r) => (rows = r) } })));
    const warm = await collect(model.generate(ids, greedy({ restore: [rows!] })));
    expect(warm.tokens.map((t) => t.id)).toEqual(cold.tokens.map((t) => t.id));
    expect(warm.result.cachedTokens).toBe(127);
  });

  it('captures the same rows whether they were computed or restored, from any start', async () => {
    const { rows: all } = await capture(0, 128);
    const first = sliceKvRows(all!, 0, 64);
    const { rows: second } = await capture(64, 128, { restore: [first] });
    const { rows: secondCold } = await capture(64, 128);
    expect(second).toEqual(secondCold);
    expect(second).toMatchObject({ start: 64, count: 64 });
  });

  it('refuses restores that do not fit', async () => {
    const { rows } = await capture(0, 128);
    const gen = (restore: KvRows[], ids = prompt) => model.generate(ids, greedy({ restore })).next();
    await expect(gen([{ ...rows!, nKvHeads: 4, headDim: 4 }])).rejects.toThrow(/shape/);
    await expect(gen([{ ...rows!, start: 64 }])).rejects.toThrow(/start at 64/);
    await expect(gen([rows!], prompt.slice(0, 100))).rejects.toThrow(/restored 128 positions of a 100-token prompt/);
    await expect(model.generate(prompt, greedy({ capture: { from: 0, to: 200, rows: () => {} } })).next()).rejects.toThrow(/capture/);
  });

  it('does not capture when prefill did not complete, and always frees the session', async () => {
    const abort = new AbortController();
    abort.abort();
    const { rows, run } = await capture(0, 128, { signal: abort.signal });
    expect(run.result.finishReason).toBe('abort');
    expect(rows).toBeNull();
    const throwing = model.generate(prompt, greedy({ capture: { from: 0, to: 64, rows: () => { throw new Error('boom'); } } }));
    await expect(collect(throwing)).rejects.toThrow('boom');
    // both sessions are free again
    await Promise.all([collect(model.generate(prompt, greedy())), collect(model.generate(prompt, greedy()))]);
    expect(model.sessionCount).toBeLessThanOrEqual(2);
  });
});
