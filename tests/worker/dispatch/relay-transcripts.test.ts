// The relay against recorded vLLM and SGLang answers (tests/fixtures/upstream, replayed byte for
// byte by tests/dispatch/replay-origin.ts): what a client gets through the Worker, as JSON and as
// SSE, keeps every choice, tool call, logprob, reasoning and usage detail the origin sent, and an
// origin's error keeps its meaning. JSON answers are compared with the server's own JSON answer to
// the same request (the `.json.http` transcript), which is what "loses nothing" means.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, provisionKey } from '../billing/setup';
import { chat, origin, readStream } from './helpers';

const tenant = await provisionKey();
const key = tenant.key;
let replayUrl = '';

beforeAll(async () => {
  replayUrl = ((await origin('start', 'replay')) as unknown as { url: string }).url;
});
afterAll(async () => {
  await origin('kill', 'replay');
});

/** The server's own JSON answer to the transcript's request (what vLLM/SGLang answer non-streamed). */
async function serverJson(name: string): Promise<Record<string, any>> {
  const res = await fetch(`${replayUrl}/v1/chat/completions`, {
    method: 'POST',
    body: JSON.stringify({ messages: [{ role: 'user', content: name }] }),
  });
  return res.json();
}

/** A message without the fields a server fills with null or [] when it has nothing to say. */
const meaning = (m: Record<string, any>) =>
  Object.fromEntries(
    Object.entries(m).filter(([, v]) => v !== null && !(Array.isArray(v) && v.length === 0)),
  );
const toolCalls = (calls: Record<string, any>[]) =>
  calls.map((c) => ({ id: c.id, type: c.type, function: c.function }));

/** The tool the tool transcripts' requests offered (it counts toward the prompt's reservation). */
const WEATHER = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'The current weather in a city.',
      parameters: {
        type: 'object',
        properties: {
          city: { type: 'string', description: 'The city, e.g. Paris' },
          unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        },
        required: ['city'],
      },
    },
  },
];

const json = async (model: string, name: string, extra: Record<string, unknown> = {}) => {
  const res = await chat(key, model, name, { max_tokens: 32, ...extra });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, any>;
};
const sse = async (model: string, name: string, extra: Record<string, unknown> = {}) => {
  const res = await chat(key, model, name, { max_tokens: 32, stream: true, ...extra });
  expect(res.status).toBe(200);
  return readStream(res);
};

describe('vLLM', () => {
  it('tool calls as JSON: the calls, finish_reason tool_calls, content null, cached tokens', async () => {
    const body = await json('pool-vllm', 'vllm-chat-tools', { tools: WEATHER });
    const own = await serverJson('vllm-chat-tools');
    expect(body).toMatchObject({ object: 'chat.completion', model: 'pool-vllm' });
    expect(body.id).not.toBe(own.id);
    const [choice] = body.choices;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toEqual(toolCalls(own.choices[0].message.tool_calls));
    expect(body.usage).toMatchObject({
      prompt_tokens: own.usage.prompt_tokens,
      completion_tokens: own.usage.completion_tokens,
      prompt_cache_hit_tokens: 192,
      prompt_tokens_details: { cached_tokens: 192 },
    });
  });

  it('tool calls as SSE: the deltas in order, our id and model, no per-chunk usage, one usage chunk', async () => {
    const s = await sse('pool-vllm', 'vllm-chat-tools', {
      tools: WEATHER,
      stream_options: { include_usage: true },
    });
    expect(s.done).toBe(true);
    const chunks = s.frames.filter((f) => f.choices.length > 0);
    expect(new Set(s.frames.map((f) => f.model))).toEqual(new Set(['pool-vllm']));
    expect(new Set(s.frames.map((f) => f.id)).size).toBe(1);
    expect(chunks.every((f) => f.usage === null)).toBe(true);
    const deltas = chunks.flatMap((f) => f.choices[0].delta.tool_calls ?? []);
    expect(deltas[0]).toMatchObject({ id: 'chatcmpl-tool-5b1e8c0f6d2a4e7f9c3b', index: 0 });
    expect(deltas.map((d) => d.function.arguments).join('')).toBe(
      '{"city": "Paris", "unit": "celsius"}',
    );
    expect(chunks.at(-1)!.choices[0].finish_reason).toBe('tool_calls');
    const usage = s.frames.at(-1)!;
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toMatchObject({
      completion_tokens: 10,
      prompt_tokens_details: { cached_tokens: 192 },
    });
  });

  it("one system_fingerprint in the JSON answer and every chunk (vLLM's chunks have none)", async () => {
    const body = await json('pool-vllm', 'vllm-chat-tools', { tools: WEATHER });
    expect(body.system_fingerprint).toMatch(/^fp_[0-9a-f]{10}$/);
    const s = await sse('pool-vllm', 'vllm-chat-tools', {
      tools: WEATHER,
      stream_options: { include_usage: true },
    });
    expect(new Set(s.frames.map((f) => f.system_fingerprint))).toEqual(
      new Set([body.system_fingerprint]),
    );
  });

  it('top_p 0 reaches vLLM as greedy decoding (vLLM refuses top_p 0)', async () => {
    await json('pool-vllm', 'vllm-chat-tools', { tools: WEATHER, temperature: 1, top_p: 0 });
    const { bodies } = (await (await fetch(`${replayUrl}/stats`)).json()) as {
      bodies: Record<string, unknown>[];
    };
    expect(bodies.at(-1)).toMatchObject({ temperature: 0 });
    expect(bodies.at(-1)).not.toHaveProperty('top_p');
  });

  it('n = 2 with logprobs as JSON: both choices, each with its text, logprobs and finish', async () => {
    const body = await json('pool-vllm', 'vllm-chat-n2-logprobs', {
      n: 2,
      logprobs: true,
      top_logprobs: 1,
    });
    const own = await serverJson('vllm-chat-n2-logprobs');
    expect(body.choices).toHaveLength(2);
    for (const i of [0, 1]) {
      expect(body.choices[i].index).toBe(i);
      expect(meaning(body.choices[i].message)).toEqual(meaning(own.choices[i].message));
      expect(body.choices[i].logprobs.content).toEqual(own.choices[i].logprobs.content);
      expect(body.choices[i].finish_reason).toBe('length');
    }
    expect(body.usage).toMatchObject({ prompt_tokens: 18, completion_tokens: 6, total_tokens: 24 });
  });

  it('n = 2 as SSE: each choice gets its own finish frame', async () => {
    const s = await sse('pool-vllm', 'vllm-chat-n2-logprobs', {
      n: 2,
      logprobs: true,
      top_logprobs: 1,
    });
    const finishes = s.frames.flatMap((f) =>
      (f.choices ?? []).filter((c: any) => c.finish_reason).map((c: any) => c.index),
    );
    expect(finishes.sort()).toEqual([0, 1]);
    const textOf = (i: number) =>
      s.frames
        .flatMap((f) =>
          (f.choices ?? [])
            .filter((c: any) => c.index === i)
            .map((c: any) => c.delta.content ?? ''),
        )
        .join('');
    expect([textOf(0), textOf(1)]).toEqual([' Once upon a', ' There was a']);
  });

  it('reasoning parser output as JSON and SSE: reasoning_content beside the content', async () => {
    const own = await serverJson('vllm-chat-reasoning');
    const body = await json('pool-vllm', 'vllm-chat-reasoning');
    expect(meaning(body.choices[0].message)).toEqual(meaning(own.choices[0].message));
    const s = await sse('pool-vllm', 'vllm-chat-reasoning');
    const reasoning = s.frames.map((f) => f.choices?.[0]?.delta?.reasoning_content ?? '').join('');
    expect(reasoning).toBe(own.choices[0].message.reasoning_content);
    expect(s.text).toBe(own.choices[0].message.content);
  });

  it('legacy completions keep their logprobs arrays', async () => {
    const res = await call('/v1/completions', {
      method: 'POST',
      key,
      body: JSON.stringify({
        model: 'pool-vllm',
        prompt: 'vllm-completions-logprobs',
        max_tokens: 3,
        logprobs: 1,
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    expect(body.choices[0]).toMatchObject({
      index: 0,
      text: ' upon a time',
      finish_reason: 'length',
    });
    expect(body.choices[0].logprobs).toEqual({
      tokens: [' upon', ' a', ' time'],
      token_logprobs: [-0.05, -0.01, -0.02],
      top_logprobs: [{ ' upon': -0.05 }, { ' a': -0.01 }, { ' time': -0.02 }],
      text_offset: [0, 5, 7],
    });
  });

  it("a context-length refusal is a 400 with the origin's message and the code clients check", async () => {
    const res = await chat(key, 'pool-vllm', 'vllm-error-context', { max_tokens: 2000 });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: Record<string, unknown> };
    expect(error.code).toBe('context_length_exceeded');
    expect(error.message).toMatch(/maximum context length is 2048 tokens/);
  });
});

describe('SGLang', () => {
  it('tool calls as JSON: the calls (later deltas carry id null), finish tool_calls, cached tokens', async () => {
    const body = await json('pool-sglang', 'sglang-chat-tools', { tools: WEATHER });
    const own = await serverJson('sglang-chat-tools');
    expect(body.choices[0].finish_reason).toBe('tool_calls');
    expect(body.choices[0].message.tool_calls).toEqual(
      toolCalls(own.choices[0].message.tool_calls),
    );
    expect(body.usage).toMatchObject({
      prompt_tokens: 230,
      completion_tokens: 18,
      prompt_cache_hit_tokens: 128,
    });
  });

  it('tool calls as SSE: the finish that carried the usage goes on without it; the usage ends the stream', async () => {
    const s = await sse('pool-sglang', 'sglang-chat-tools', {
      tools: WEATHER,
      stream_options: { include_usage: true },
    });
    expect(s.done).toBe(true);
    const finish = s.frames.find((f) => f.choices?.[0]?.finish_reason);
    expect(finish).toMatchObject({ model: 'pool-sglang', usage: null });
    expect(finish!.choices[0].finish_reason).toBe('tool_calls');
    expect(s.frames.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens_details: { cached_tokens: 128 } },
    });
  });

  it('reasoning as SSE and JSON', async () => {
    const s = await sse('pool-sglang', 'sglang-chat-reasoning');
    expect(s.frames.map((f) => f.choices?.[0]?.delta?.reasoning_content ?? '').join('')).toBe(
      'The user wants a greeting.',
    );
    expect(s.text).toBe('Hello! How can I help?');
    const body = await json('pool-sglang', 'sglang-chat-reasoning');
    expect(body.choices[0].message).toEqual({
      role: 'assistant',
      content: 'Hello! How can I help?',
      reasoning_content: 'The user wants a greeting.',
    });
  });

  it('its flat error body is a 400 with the message and code', async () => {
    const res = await chat(key, 'pool-sglang', 'sglang-error-context');
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: Record<string, unknown> };
    expect(error).toMatchObject({ code: 'context_length_exceeded', type: 'invalid_request_error' });
    expect(error.message).toMatch(/longer than the model's context length/);
  });
});
