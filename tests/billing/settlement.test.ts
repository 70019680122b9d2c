// routes/generation.ts tells the meter exactly once how a generation ended, with the tokens it
// produced: completed, failed (only what was delivered), or abandoned by the client mid-stream.
import { describe, expect, it } from 'vitest';
import type { Outcome } from '../../billing/meter';
import type { LlamaModel } from '../../engine/index';
import type { Cost } from '../../protocol/usage';
import {
  runToEnd,
  streamResponse,
  type Frames,
  type GenerationPlan,
} from '../../routes/generation';

const COST: Cost = {
  currency: 'USD',
  unit: 'nano',
  input_cache_hit: 0,
  input_cache_miss: 1,
  output: 2,
  total: 3,
  off_peak: false,
};

/** An engine that yields `n` tokens, then fails if `failAt` is reached, honouring abort. */
function fakeEngine(n: number, failAt = Infinity) {
  return {
    async *generate(promptIds: number[], opts: { signal?: AbortSignal }) {
      let produced = 0;
      for (let i = 0; i < n; i++) {
        if (opts.signal?.aborted)
          return {
            finishReason: 'abort',
            promptTokens: promptIds.length,
            completionTokens: produced,
          };
        if (i === failAt) throw new Error('origin went away');
        await new Promise((r) => setTimeout(r, 1));
        produced++;
        yield { id: i, text: `t${i} ` };
      }
      return { finishReason: 'length', promptTokens: promptIds.length, completionTokens: produced };
    },
  } as unknown as LlamaModel;
}

function plan(engine: LlamaModel, includeUsage = true) {
  const outcomes: Outcome[] = [];
  const p: GenerationPlan = {
    engine,
    promptIds: [1, 2, 3, 4],
    options: { maxTokens: 100, temperature: 0, topP: 1, stop: [] },
    includeUsage,
    requestId: 'req-test',
    meter: { finish: async (o: Outcome) => (outcomes.push(o), COST) },
  };
  return { p, outcomes };
}

const frames: Frames = {
  opening: () => [],
  delta: (text) => ({ text }),
  finish: (reason, usage) => ({ finish: reason, ...(usage ? { usage } : {}) }),
  usage: (usage) => ({ usage }),
};

describe('settlement from generation', () => {
  it('a completed JSON generation is billed once, with its cost in usage', async () => {
    const { p, outcomes } = plan(fakeEngine(5));
    const result = await runToEnd(p);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({
      status: 'completed',
      promptTokens: 4,
      cachedTokens: 0,
      completionTokens: 5,
    });
    expect(result.usage.cost).toEqual(COST);
    expect(JSON.parse(outcomes[0].replay!(COST))).toMatchObject({
      text: result.text,
      usage: { cost: COST },
    });
  });

  it('a JSON generation that fails delivers nothing and bills nothing', async () => {
    const { p, outcomes } = plan(fakeEngine(5, 3));
    await expect(runToEnd(p)).rejects.toThrow('origin went away');
    expect(outcomes).toEqual([
      { status: 'failed', promptTokens: 4, cachedTokens: 0, completionTokens: 0 },
    ]);
  });

  it('an aborted JSON request bills the tokens produced before the abort', async () => {
    const { p, outcomes } = plan(fakeEngine(50));
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 15);
    await runToEnd(p, abort.signal);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0].status).toBe('disconnected');
    expect(outcomes[0].completionTokens).toBeGreaterThan(0);
    expect(outcomes[0].completionTokens).toBeLessThan(50);
  });

  it('a completed stream is billed once and ends with the cost', async () => {
    const { p, outcomes } = plan(fakeEngine(4));
    const text = await streamResponse(p, frames, {}).text();
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ status: 'completed', completionTokens: 4 });
    expect(text).toContain('"total":3');
    expect(text.trim().endsWith('data: [DONE]')).toBe(true);
  });

  it('a stream that fails mid-way bills the tokens it delivered, and ends with an error frame', async () => {
    const { p, outcomes } = plan(fakeEngine(10, 3));
    const text = await streamResponse(p, frames, {}).text();
    expect(outcomes).toEqual([
      { status: 'failed', promptTokens: 4, cachedTokens: 0, completionTokens: 3 },
    ]);
    expect(text).toContain('"error"');
  });

  it('a client that cancels mid-stream is billed for the tokens produced, once', async () => {
    const { p, outcomes } = plan(fakeEngine(100), false);
    const reader = streamResponse(p, frames, {}).body!.getReader();
    for (let i = 0; i < 3; i++) await reader.read();
    await reader.cancel();
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0].status).toBe('disconnected');
    expect(outcomes[0].completionTokens).toBeGreaterThanOrEqual(3);
    expect(outcomes[0].completionTokens).toBeLessThan(100);
  });

  it('a stream cancelled before anything was read is settled once, with nothing produced', async () => {
    const { p, outcomes } = plan(fakeEngine(100), false);
    await streamResponse(p, frames, {}).body!.cancel();
    expect(outcomes).toEqual([
      { status: 'disconnected', promptTokens: 4, cachedTokens: 0, completionTokens: 0 },
    ]);
  });
});
