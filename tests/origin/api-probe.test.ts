// The origin process answering as OpenAI does where an outside-in probe with real clients found it
// did not: top_p 0, one system_fingerprint per model, prompts given as token ids, echoed prompt
// logprobs, and a tool call cut by max_tokens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse, startOrigin, type RunningOrigin } from './helpers';

let origin: RunningOrigin;
beforeAll(async () => {
  origin = await startOrigin(['--model', 'synthetic:tiny', '--model-id', 'tiny']);
});
afterAll(async () => {
  await origin?.stop();
});

const post = (path: string, body: object) =>
  fetch(`${origin.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'tiny', ...body }),
  });
const json = async (path: string, body: object) => {
  const res = await post(path, body);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, any>;
};
const messages = [{ role: 'user', content: 'Tell me a story about a cat.' }];

describe('origin: as OpenAI answers', () => {
  it('top_p 0 is greedy, whatever the temperature', async () => {
    const ask = { messages, max_tokens: 12, ignore_eos: true };
    const greedy = await json('/v1/chat/completions', { ...ask, temperature: 0 });
    for (const seed of [1, 2]) {
      const nucleus = await json('/v1/chat/completions', {
        ...ask,
        temperature: 1.5,
        top_p: 0,
        seed,
      });
      expect(nucleus.choices[0].message.content).toBe(greedy.choices[0].message.content);
    }
  });
});
