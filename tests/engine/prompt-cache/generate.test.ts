// generate()'s prompt-cache contract on a synthetic model: restored rows must fit the model and
// leave the last prompt token to compute; capture sees exactly the rows a cold run computed, and
// only when prefill completed; a restore with the captured rows gives the cold run's tokens.
import { describe, expect, it } from 'vitest';
import {
  LlamaModel,
  sliceKvRows,
  syntheticLlama2cCheckpoint,
  syntheticLlama2cTokenizer,
  type GenerateOptions,
  type GqaKvRows,
} from '../../../engine/index';
import { createNodeKernels } from '../../../kernels-wasm/node';
import { collect } from '../helpers';

const shape = {
  dim: 32,
  hiddenDim: 64,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 300,
  seqLen: 256,
};
const model = LlamaModel.fromLlama2c(
  await createNodeKernels(),
  syntheticLlama2cCheckpoint(shape, 5),
  syntheticLlama2cTokenizer(300),
  { maxSessions: 2 },
);
const prompt = [1, ...Array.from({ length: 140 }, (_, i) => 3 + ((i * 37) % 290))];
const greedy = (over: Partial<GenerateOptions> = {}): GenerateOptions => ({
  maxTokens: 12,
  temperature: 0,
  topP: 1,
  stopAtEos: false,
  ...over,
});

async function capture(from: number, to: number, over: Partial<GenerateOptions> = {}) {
  let rows: GqaKvRows | null = null;
  const run = await collect(
    model.generate(prompt, greedy({ capture: { from, to, rows: (r) => (rows = r) }, ...over })),
  );
  return { run, rows: rows as GqaKvRows | null };
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
    let rows: GqaKvRows | null = null;
    const cold = await collect(
      model.generate(ids, greedy({ capture: { from: 0, to: 128, rows: (r) => (rows = r) } })),
    );
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

  it('with completion: captures every computed position, prompt then fed-back tokens, as a cold run of both computes them', async () => {
    let rows: GqaKvRows | null = null;
    let tokens: readonly number[] = [];
    const run = await collect(
      model.generate(
        prompt,
        greedy({
          maxTokens: 60,
          capture: {
            from: 64,
            to: 128,
            completion: true,
            rows: (r, t) => ((rows = r), (tokens = t)),
          },
        }),
      ),
    );
    const sampled = run.tokens.map((t) => t.id);
    // the last sampled token is never fed back, so its position has no KV
    expect(tokens).toEqual([...prompt, ...sampled.slice(0, -1)]);
    expect(rows).toMatchObject({ start: 64, count: prompt.length + sampled.length - 1 - 64 });
    // the next turn's prompt: this prompt and answer; a cold run of it computes the same rows
    const next = [...prompt, ...sampled];
    let cold: GqaKvRows | null = null;
    await collect(
      model.generate(
        next,
        greedy({ maxTokens: 1, capture: { from: 64, to: 192, rows: (r) => (cold = r) } }),
      ),
    );
    // (the answer's rows came one token at a time, the cold run's in batched prefill: the same math in
    // another summation order, so equal within f32 rounding)
    const mine = sliceKvRows(rows!, 64, 128),
      theirs = cold! as GqaKvRows;
    expect(mine).toMatchObject({
      start: theirs.start,
      count: theirs.count,
      nLayers: theirs.nLayers,
    });
    const worst = (a: Float32Array, b: Float32Array) =>
      a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
    expect(worst(mine.keys, theirs.keys)).toBeLessThan(1e-4);
    expect(worst(mine.values, theirs.values)).toBeLessThan(1e-4);
    // and restoring the captured blocks gives the cold run's tokens
    const all = (await capture(0, 64)).rows!;
    const warm = await collect(
      model.generate(next, greedy({ restore: [all, sliceKvRows(rows!, 64, 128)] })),
    );
    const coldNext = await collect(model.generate(next, greedy()));
    expect(warm.tokens.map((t) => t.id)).toEqual(coldNext.tokens.map((t) => t.id));
    expect(warm.result.cachedTokens).toBe(192);
  });

  it('refuses restores that do not fit', async () => {
    const { rows } = await capture(0, 128);
    const gen = (restore: GqaKvRows[], ids = prompt) =>
      model.generate(ids, greedy({ restore })).next();
    await expect(gen([{ ...rows!, nKvHeads: 4, headDim: 4 }])).rejects.toThrow(/shape/);
    await expect(gen([{ ...rows!, start: 64 }])).rejects.toThrow(/start at 64/);
    await expect(gen([rows!], prompt.slice(0, 100))).rejects.toThrow(
      /restored 128 positions of a 100-token prompt/,
    );
    await expect(
      model.generate(prompt, greedy({ capture: { from: 0, to: 200, rows: () => {} } })).next(),
    ).rejects.toThrow(/capture/);
  });

  it('does not capture when prefill did not complete, and always frees the session', async () => {
    const abort = new AbortController();
    abort.abort();
    const { rows, run } = await capture(0, 128, { signal: abort.signal });
    expect(run.result.finishReason).toBe('abort');
    expect(rows).toBeNull();
    const throwing = model.generate(
      prompt,
      greedy({
        capture: {
          from: 0,
          to: 64,
          rows: () => {
            throw new Error('boom');
          },
        },
      }),
    );
    await expect(collect(throwing)).rejects.toThrow('boom');
    // both sessions are free again
    await Promise.all([
      collect(model.generate(prompt, greedy())),
      collect(model.generate(prompt, greedy())),
    ]);
    expect(model.sessionCount).toBeLessThanOrEqual(2);
  });
});
