// The origin process answering as OpenAI does where an outside-in probe with real clients found it
// did not: top_p 0, one system_fingerprint per model, prompts given as token ids, echoed prompt
// logprobs (the prompt scored), and a tool call cut by max_tokens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse, startOrigin, type RunningOrigin } from './helpers';
import { syntheticWeights, tokenizerOf } from './reference-text';

const tokenizer = tokenizerOf(syntheticWeights('tiny'));

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
const addSchema = {
  type: 'object',
  properties: { name: { type: 'string', maxLength: 12 }, n: { type: 'integer' } },
  required: ['name', 'n'],
  additionalProperties: false,
};
/** Tokens before the end of the forced call where it is cut: inside its arguments. */
const CUT_BEFORE_END = 8;
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

  it('one system_fingerprint for the model, in JSON and every chunk of both endpoints', async () => {
    const ask = { max_tokens: 4, stream_options: { include_usage: true } };
    const whole = await json('/v1/chat/completions', { messages, ...ask });
    expect(whole.system_fingerprint).toMatch(/^fp_[0-9a-f]{10}$/);
    for (const [path, body] of [
      ['/v1/chat/completions', { messages }],
      ['/v1/completions', { prompt: 'Once' }],
    ] as const) {
      const frames = (await readSse(await post(path, { ...body, ...ask, stream: true }))).filter(
        (f) => f !== '[DONE]',
      ) as { system_fingerprint?: string }[];
      expect(new Set(frames.map((f) => f.system_fingerprint))).toEqual(
        new Set([whole.system_fingerprint]),
      );
    }
  });

  it('a tool call cut by max_tokens comes back partial with finish_reason length, JSON and streamed', async () => {
    const ask = {
      messages: [{ role: 'user', content: 'add' }],
      tools: [{ type: 'function', function: { name: 'add', parameters: addSchema } }],
      tool_choice: { type: 'function', function: { name: 'add' } },
      temperature: 0,
    };
    const whole = await json('/v1/chat/completions', { ...ask, max_tokens: 300 });
    const full = whole.choices[0].message.tool_calls[0].function.arguments as string;
    const cutAt = whole.usage.completion_tokens - CUT_BEFORE_END;
    const cut = await json('/v1/chat/completions', { ...ask, max_tokens: cutAt });
    const choice = cut.choices[0];
    expect(choice.finish_reason).toBe('length');
    expect(choice.message.content).toBeNull();
    const partial = choice.message.tool_calls[0];
    expect(partial).toMatchObject({ type: 'function', function: { name: 'add' } });
    expect(partial.id).toMatch(/^call_/);
    expect(partial.function.arguments.length).toBeGreaterThan(0);
    expect(full.startsWith(partial.function.arguments)).toBe(true);
    expect(partial.function.arguments).not.toBe(full);
    const streamed = await post('/v1/chat/completions', {
      ...ask,
      max_tokens: cutAt,
      stream: true,
    });
    const chunks = (await readSse(streamed)) as Record<string, any>[];
    const args = chunks
      .flatMap((c) => c.choices?.[0]?.delta.tool_calls ?? [])
      .map((d: any) => d.function.arguments)
      .join('');
    expect(args).toBe(partial.function.arguments);
    expect(chunks.findLast((c) => c.choices?.length)!.choices[0].finish_reason).toBe('length');
  });

  it('completions take the prompt as token ids, alone or in an array of one', async () => {
    const prompt = 'Once upon a time';
    const ids = tokenizer.encode(prompt);
    const ask = { max_tokens: 8, temperature: 0, ignore_eos: true };
    const byText = await json('/v1/completions', { ...ask, prompt });
    for (const form of [ids, [ids]]) {
      const byIds = await json('/v1/completions', { ...ask, prompt: form, echo: true });
      expect(byIds.choices[0].text).toBe(prompt + byText.choices[0].text);
      expect(byIds.usage.prompt_tokens).toBe(ids.length);
    }
    const outside = await post('/v1/completions', { ...ask, prompt: [1, 10_000_000] });
    expect(outside.status).toBe(400);
    expect(((await outside.json()) as any).error).toMatchObject({ param: 'prompt' });
  });

  it("echo with logprobs scores the prompt: each token's distribution is the one a prompt ending before it samples from", async () => {
    const prompt = 'Once upon a time, in a quiet town';
    const ids = tokenizer.encode(prompt); // BOS first, as the origin encodes it
    const ask = {
      prompt,
      echo: true,
      logprobs: 3,
      max_tokens: 4,
      temperature: 0,
      ignore_eos: true,
    };
    const body = await json('/v1/completions', ask);
    const lp = body.choices[0].logprobs;
    const echoed = ids.length - 1; // BOS is not text: no entry
    expect(lp.tokens).toHaveLength(echoed + 4);
    expect(lp.tokens.slice(0, echoed).join('')).toBe(prompt);
    expect(lp.text_offset[echoed]).toBe(prompt.length);
    for (const e of [0, 3, echoed - 1]) {
      // the prompt up to this token, as ids: its first output is sampled from the same logits
      const ref = await json('/v1/completions', {
        prompt: ids.slice(0, e + 1),
        logprobs: 3,
        max_tokens: 1,
        temperature: 0,
        ignore_eos: true,
      });
      const want = ref.choices[0].logprobs.top_logprobs[0] as Record<string, number>;
      const got = lp.top_logprobs[e] as Record<string, number>;
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      for (const [token, logprob] of Object.entries(want))
        expect(Math.abs(got[token] - logprob)).toBeLessThan(1e-4);
      expect(lp.token_logprobs[e]).toBeLessThanOrEqual(0);
    }
    // streamed: the echo chunk carries the same entries
    const chunks = (await readSse(
      await post('/v1/completions', { ...ask, stream: true }),
    )) as Record<string, any>[];
    expect(chunks[0].choices[0].text).toBe(prompt);
    expect(chunks[0].choices[0].logprobs.token_logprobs).toEqual(
      lp.token_logprobs.slice(0, echoed),
    );
  });
});
