// `n` on the real origin process (synthetic:tiny): n choices, each sampled with seed + i (so choice
// i equals a one-choice request with that seed), as JSON and as SSE; the prompt billed once; the
// later choices restore the prompt's blocks that choice 0 put in the prefix cache.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metric, parsePrometheus, readSse, startOrigin, type RunningOrigin } from './helpers';

let origin: RunningOrigin;
beforeAll(async () => {
  origin = await startOrigin(['--model', 'synthetic:tiny', '--model-id', 'tiny']);
});
afterAll(async () => {
  await origin?.stop();
});

const post = async (path: string, body: object) => {
  const res = await fetch(`${origin.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tiny', ...body }),
  });
  expect(res.status).toBe(200);
  return res;
};
const sampling = { temperature: 0.9, max_tokens: 12, ignore_eos: true };
const hits = async () =>
  metric(
    parsePrometheus(await (await fetch(`${origin.url}/metrics`)).text()).samples,
    'origin_prefix_cache_hit_tokens_total',
  );

describe('origin: n choices', () => {
  it('JSON: n choices, choice i as seed + i samples it, the prompt billed once', async () => {
    const messages = [{ role: 'user', content: 'Tell me a story about a cat.' }];
    const res = await post('/v1/chat/completions', { messages, ...sampling, seed: 7, n: 3 });
    const body = (await res.json()) as Record<string, any>;
    expect(body.choices.map((c: any) => c.index)).toEqual([0, 1, 2]);
    const singles = await Promise.all(
      [7, 8, 9].map(async (seed) => {
        const one = (await (
          await post('/v1/chat/completions', { messages, ...sampling, seed })
        ).json()) as Record<string, any>;
        return one;
      }),
    );
    for (const i of [0, 1, 2]) {
      expect(body.choices[i].message.content).toBe(singles[i].choices[0].message.content);
      expect(body.choices[i].finish_reason).toBe('length');
    }
    expect(body.usage).toMatchObject({
      prompt_tokens: singles[0].usage.prompt_tokens,
      completion_tokens: 36,
      total_tokens: singles[0].usage.prompt_tokens + 36,
    });
  });

  it('SSE: frames of every choice with its index, a finish each, one usage chunk for all', async () => {
    const res = await post('/v1/completions', {
      prompt: 'Once upon a time',
      ...sampling,
      seed: 3,
      n: 2,
      stream: true,
      stream_options: { include_usage: true },
    });
    const frames = (await readSse(res)) as Record<string, any>[];
    const chunks = frames.filter((f) => f.choices?.length);
    const finishes = chunks.filter((f) => f.choices[0].finish_reason);
    expect(finishes.map((f) => f.choices[0].index).sort()).toEqual([0, 1]);
    const text = (i: number) =>
      chunks
        .filter((f) => f.choices[0].index === i)
        .map((f) => f.choices[0].text)
        .join('');
    expect(text(0)).not.toBe('');
    expect(text(1)).not.toBe('');
    const usage = frames.filter((f) => f.usage);
    expect(usage).toHaveLength(1);
    expect(usage[0].usage.completion_tokens).toBe(24);
  });

  it('the later choices restore the prompt that choice 0 computed from the prefix cache', async () => {
    // Three whole 64-token blocks of prompt (about 10 tokens a sentence on DeepSeek-V3's tokenizer).
    const prompt = 'The quick brown fox jumps over the lazy dog. '.repeat(20);
    const before = await hits();
    await post('/v1/completions', { prompt, ...sampling, seed: 1, n: 3 });
    // Choices 1 and 2 each restored at least one whole block.
    expect((await hits()) - before).toBeGreaterThanOrEqual(2 * 64);
  });
});
