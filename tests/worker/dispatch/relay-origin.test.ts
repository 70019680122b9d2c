// What the relay keeps of our own origin's answers (a real origin process of its own, e): `n` choices, `echo`
// billed as the origin counted it, a request with no max_tokens on a pool that sets none (the
// origin's default fits its context), the origin's error code and param, and tool calls (the origin
// decodes them under their grammar) as JSON and SSE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, provisionKey } from '../billing/setup';
import { chat, origin, readStream } from './helpers';

const tenant = await provisionKey();
const key = tenant.key;

beforeAll(async () => {
  await origin('start', 'e');
});
afterAll(async () => {
  await origin('kill', 'e');
});

const completion = (body: Record<string, unknown>) =>
  call('/v1/completions', {
    method: 'POST',
    key,
    body: JSON.stringify({ model: 'pool-e', temperature: 0, ...body }),
  });

describe('relay of our origin', () => {
  it('n = 2 as JSON: two choices, the prompt billed once', async () => {
    const sampling = { temperature: 0.9, seed: 5, max_tokens: 6, ignore_eos: true };
    const res = await chat(key, 'pool-e', 'A tale of two cities', { ...sampling, n: 2 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    expect(body.choices.map((c: any) => c.index)).toEqual([0, 1]);
    const one = (await (
      await chat(key, 'pool-e', 'A tale of two cities', sampling)
    ).json()) as Record<string, any>;
    expect(body.choices[0].message.content).toBe(one.choices[0].message.content);
    expect(body.usage).toMatchObject({
      prompt_tokens: one.usage.prompt_tokens,
      completion_tokens: 12,
    });
  });

  it('n = 2 as SSE: a finish frame for each choice', async () => {
    const res = await chat(key, 'pool-e', 'A tale of two cities', {
      temperature: 0.9,
      seed: 5,
      max_tokens: 6,
      ignore_eos: true,
      n: 2,
      stream: true,
    });
    const s = await readStream(res);
    const finishes = s.frames
      .filter((f) => f.choices?.[0]?.finish_reason)
      .map((f) => f.choices[0].index);
    expect(finishes.sort()).toEqual([0, 1]);
    expect(s.frames.at(-1)!.usage.completion_tokens).toBe(12);
  });

  it('echo is billed as the tokens generated, not one more (JSON and SSE)', async () => {
    const body = { prompt: 'Once upon a time', echo: true, max_tokens: 5, ignore_eos: true };
    const res = await completion(body);
    const json = (await res.json()) as Record<string, any>;
    expect(json.choices[0].text.startsWith('Once upon a time')).toBe(true);
    expect(json.usage.completion_tokens).toBe(5);
    const s = await readStream(
      await completion({ ...body, stream: true, stream_options: { include_usage: true } }),
    );
    expect(s.frames.at(-1)!.usage.completion_tokens).toBe(5);
  });

  it('no max_tokens on a pool without max_output_tokens: the origin picks a default that fits', async () => {
    const res = await call('/v1/chat/completions', {
      method: 'POST',
      key,
      body: JSON.stringify({
        model: 'pool-default',
        messages: [{ role: 'user', content: 'Hi' }],
        temperature: 0,
        stream: true,
      }),
    });
    expect(res.status).toBe(200);
    const s = await readStream(res);
    expect(s.done).toBe(true);
  });

  it('tool calls from our origin pass through: JSON message.tool_calls and SSE deltas', async () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'pick',
          parameters: { type: 'object', properties: { s: { enum: ['x', 'y'] } }, required: ['s'] },
        },
      },
    ];
    const extra = {
      tools,
      tool_choice: { type: 'function', function: { name: 'pick' } },
      max_tokens: 200,
    };
    const res = await chat(key, 'pool-e', 'pick one', extra);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    const choice = body.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toHaveLength(1);
    expect(choice.message.tool_calls[0]).toMatchObject({
      type: 'function',
      function: { name: 'pick' },
    });
    expect(['x', 'y']).toContain(JSON.parse(choice.message.tool_calls[0].function.arguments).s);
    const s = await readStream(await chat(key, 'pool-e', 'pick one', { ...extra, stream: true }));
    expect(s.done).toBe(true);
    const deltas = s.frames.flatMap((f) => f.choices?.[0]?.delta?.tool_calls ?? []);
    expect(deltas[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'pick' } });
    const args = deltas.map((d: any) => d.function.arguments ?? '').join('');
    // greedy both times: the streamed call is the JSON one
    expect(args).toBe(choice.message.tool_calls[0].function.arguments);
    const finish = s.frames.find((f) => f.choices?.[0]?.finish_reason);
    expect(finish!.choices[0].finish_reason).toBe('tool_calls');
  });

  it("the origin's context_length_exceeded keeps its code and param", async () => {
    const res = await chat(key, 'pool-default', 'Hi', { max_tokens: 100_000 });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: Record<string, unknown> };
    expect(error).toMatchObject({ code: 'context_length_exceeded', param: 'max_tokens' });
  });
});
