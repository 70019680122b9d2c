// Structured output and tool calling through the official `openai` client, unchanged, against the
// Worker in workerd on stories260k (no chat template: the generic tool prompt). The outputs are
// guaranteed by constrained decoding, so they parse and validate whatever the tiny model "wants".
import { Validator } from '@cfworker/json-schema';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BASE_URL, MODEL, prepare, reason, workerFetch } from './setup';

const weather = {
  type: 'function' as const,
  function: {
    name: 'weather',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', maxLength: 6 }, days: { type: 'integer', maximum: 7 } },
      required: ['city', 'days'],
    },
    strict: true,
  },
};
const time = {
  type: 'function' as const,
  function: {
    name: 'time',
    parameters: {
      type: 'object',
      properties: { zone: { enum: ['UTC', 'CET'] } },
      required: ['zone'],
    },
  },
};

/** Tokens of the forced weather call (stories260k, greedy) that end inside its arguments. */
const CUT_TOKENS = 70;

const valid = (schema: object, value: unknown) =>
  new Validator(schema as never, '2020-12', false).validate(value).valid;

describe.skipIf(reason !== null)('structured output and tools (openai client)', () => {
  let client: OpenAI;
  beforeAll(async () => {
    client = new OpenAI({
      baseURL: BASE_URL,
      apiKey: await prepare(),
      fetch: workerFetch,
      maxRetries: 0,
    });
  });

  it('json_schema: the content is valid against the schema, with sampling', async () => {
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string', maxLength: 10 },
        age: { type: 'integer', minimum: 0, maximum: 120 },
        tags: { type: 'array', items: { enum: ['a', 'b'] }, maxItems: 3 },
      },
      required: ['name', 'age', 'tags'],
      additionalProperties: false,
    };
    for (const seed of [1, 2, 3]) {
      const r = await client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'Tell me about Lily' }],
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'person', schema, strict: true },
        },
        max_tokens: 200,
        temperature: 1,
        seed,
      });
      expect(r.choices[0].finish_reason).toBe('stop');
      expect(valid(schema, JSON.parse(r.choices[0].message.content!))).toBe(true);
    }
  });

  it('json_object: any JSON object; without "json" in the messages it is a 400', async () => {
    const r = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Answer in json: the cat' }],
      response_format: { type: 'json_object' },
      max_tokens: 120,
      temperature: 0.8,
      seed: 5,
    });
    if (r.choices[0].finish_reason === 'stop') {
      const v = JSON.parse(r.choices[0].message.content!);
      expect(typeof v === 'object' && v !== null && !Array.isArray(v)).toBe(true);
    } else expect(r.choices[0].finish_reason).toBe('length');
    const err = await client.chat.completions
      .create({
        model: MODEL,
        messages: [{ role: 'user', content: 'the cat' }],
        response_format: { type: 'json_object' },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('messages');
  });

  it('chat.completions.parse with zodResponseFormat gives the parsed object', async () => {
    const Story = z.object({ title: z.string().max(20), moral: z.enum(['kindness', 'courage']) });
    const r = await client.chat.completions.parse({
      model: MODEL,
      messages: [{ role: 'user', content: 'A story' }],
      response_format: zodResponseFormat(Story, 'story'),
      max_tokens: 100,
      temperature: 0.7,
      seed: 11,
    });
    const parsed = r.choices[0].message.parsed!;
    expect(Story.parse(parsed)).toEqual(parsed);
  });

  it('tool_choice required: tool_calls with call ids, arguments valid JSON for the schema', async () => {
    const r = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [weather, time],
      tool_choice: 'required',
      temperature: 1,
      seed: 3,
    });
    const choice = r.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const calls = choice.message.tool_calls!;
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls) {
      expect(c.id).toMatch(/^call_[A-Za-z0-9]{24}$/);
      expect(c.type).toBe('function');
      if (c.type !== 'function') continue;
      const tool = [weather, time].find((t) => t.function.name === c.function.name)!;
      expect(valid(tool.function.parameters, JSON.parse(c.function.arguments))).toBe(true);
    }
  });

  it('a named tool_choice and parallel_tool_calls false: exactly one call of that tool', async () => {
    const r = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'What time is it?' }],
      tools: [weather, time],
      tool_choice: { type: 'function', function: { name: 'time' } },
      parallel_tool_calls: false,
      temperature: 0,
    });
    const calls = r.choices[0].message.tool_calls!;
    expect(calls).toHaveLength(1);
    const call = calls[0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(call.function.name).toBe('time');
    expect(['UTC', 'CET']).toContain(JSON.parse(call.function.arguments).zone);
  });

  it('streamed tool calls: deltas in OpenAI shape add up to the JSON answer', async () => {
    const request = {
      model: MODEL,
      messages: [{ role: 'user' as const, content: 'Weather?' }],
      tools: [weather],
      tool_choice: 'required' as const,
      max_tokens: 150,
      temperature: 0,
    };
    const whole = await client.chat.completions.create(request);
    const stream = await client.chat.completions.create({ ...request, stream: true });
    const deltas: OpenAI.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const d of chunk.choices[0]?.delta.tool_calls ?? []) deltas.push(d);
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe('tool_calls');
    expect(deltas[0]).toMatchObject({
      index: 0,
      type: 'function',
      function: { name: 'weather', arguments: '' },
    });
    expect(deltas[0].id).toMatch(/^call_/);
    const args = deltas
      .filter((d) => d.index === 0)
      .map((d) => d.function!.arguments)
      .join('');
    const expected = whole.choices[0].message
      .tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(JSON.parse(args)).toEqual(JSON.parse(expected.function.arguments));
    // the runner helper of the same client assembles them as well
    const runner = client.chat.completions.stream({ ...request });
    const final = await runner.finalChatCompletion();
    const call = final.choices[0].message
      .tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(valid(weather.function.parameters, JSON.parse(call.function.arguments))).toBe(true);
  });

  it('a tool call cut by max_tokens comes back partial with finish_reason length, JSON and streamed', async () => {
    const request = {
      model: MODEL,
      messages: [{ role: 'user' as const, content: 'Weather?' }],
      tools: [weather],
      tool_choice: 'required' as const,
      temperature: 0,
    };
    const whole = await client.chat.completions.create({ ...request, max_tokens: 150 });
    const full = whole.choices[0].message
      .tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    // the call's arguments are its last tokens but the closing `}</tool_call>`: cut in their middle
    const cut = await client.chat.completions.create({ ...request, max_tokens: CUT_TOKENS });
    const choice = cut.choices[0];
    expect(choice.finish_reason).toBe('length');
    expect(choice.message.content).toBeNull();
    const partial = choice.message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(partial).toMatchObject({ type: 'function', function: { name: 'weather' } });
    expect(partial.id).toMatch(/^call_/);
    expect(partial.function.arguments.length).toBeGreaterThan(0);
    expect(full.function.arguments.startsWith(partial.function.arguments)).toBe(true);
    expect(partial.function.arguments).not.toBe(full.function.arguments);

    const stream = await client.chat.completions.create({
      ...request,
      max_tokens: CUT_TOKENS,
      stream: true,
    });
    let args = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const d of chunk.choices[0]?.delta.tool_calls ?? []) args += d.function?.arguments ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe('length');
    expect(args).toBe(partial.function.arguments);
  });

  it('multi-turn: an assistant tool call (content null) and its tool result are accepted', async () => {
    const first = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Weather in Rome?' }],
      tools: [weather],
      tool_choice: 'required',
      max_tokens: 100,
      temperature: 0,
    });
    const msg = first.choices[0].message;
    const call = msg.tool_calls![0];
    const r = await client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: 'user', content: 'Weather in Rome?' },
        msg,
        { role: 'tool', tool_call_id: call.id, content: '{"sky":"sunny"}' },
      ],
      tools: [weather],
      tool_choice: 'auto',
      max_tokens: 20,
      temperature: 0,
    });
    expect(['stop', 'length', 'tool_calls']).toContain(r.choices[0].finish_reason);
  });
});
