// Tools and thinking through /anthropic with the official `@anthropic-ai/sdk` and the Vercel AI SDK's
// `@ai-sdk/anthropic`, unchanged but for base URL, key and fetch. Tool calls are constrained by the
// shared chat pipeline (the grammar engine behind /v1/chat/completions' tools), so a tool_use
// block's input always fits its input_schema; thinking is DeepSeek's reasoning (deepseek-reasoner).
import { createAnthropic } from '@ai-sdk/anthropic';
import Anthropic from '@anthropic-ai/sdk';
import { generateText, jsonSchema, streamText, tool } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { origin } from '../dispatch/helpers';
import { seedFimModel } from './deepseek-models';
import { BASE_URL, MODEL, prepare, reason, workerFetch } from './setup';

const ANTHROPIC_URL = BASE_URL.replace(/\/v1$/, '/anthropic');
const GREEDY = { temperature: 0 } as object;

const weatherSchema = {
  type: 'object' as const,
  properties: {
    city: { type: 'string', enum: ['Paris', 'Rome', 'Oslo'] },
    days: { type: 'integer', minimum: 1, maximum: 7 },
  },
  required: ['city', 'days'],
  additionalProperties: false,
};
const weather = {
  name: 'get_weather',
  description: 'Weather forecast',
  input_schema: weatherSchema,
};

/** What input_schema allows; the constraint must make every call pass this. */
function fitsSchema(input: unknown): boolean {
  const o = input as { city?: unknown; days?: unknown };
  return (
    typeof o === 'object' &&
    Object.keys(o).every((k) => k === 'city' || k === 'days') &&
    ['Paris', 'Rome', 'Oslo'].includes(o.city as string) &&
    Number.isInteger(o.days) &&
    (o.days as number) >= 1 &&
    (o.days as number) <= 7
  );
}

describe.skipIf(reason !== null)(
  'tools over /anthropic [needs helper J: tools on the chat route]',
  () => {
    let anthropic: Anthropic;
    let apiKey: string;
    beforeAll(async () => {
      apiKey = await prepare();
      anthropic = new Anthropic({
        baseURL: ANTHROPIC_URL,
        apiKey,
        fetch: workerFetch,
        maxRetries: 0,
      });
    });

    it('two turns: a forced tool_use whose input fits input_schema, then a tool_result answered', async () => {
      const user = { role: 'user' as const, content: 'What is the weather in Paris?' };
      const first = await anthropic.messages.create({
        model: MODEL,
        max_tokens: 130,
        ...GREEDY,
        tools: [weather],
        tool_choice: { type: 'tool', name: 'get_weather' },
        messages: [user],
      });
      expect(first.stop_reason).toBe('tool_use');
      const call = first.content.find((b) => b.type === 'tool_use') as Anthropic.ToolUseBlock;
      expect(call).toMatchObject({ name: 'get_weather', id: expect.stringMatching(/^toolu_/) });
      expect(fitsSchema(call.input)).toBe(true);

      const second = await anthropic.messages.create({
        model: MODEL,
        max_tokens: 12,
        ...GREEDY,
        tools: [weather],
        messages: [
          user,
          { role: 'assistant', content: first.content },
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: call.id, content: 'Sunny, 24°C' }],
          },
        ],
      });
      expect(second.usage.output_tokens).toBeGreaterThan(0);
      expect(['end_turn', 'max_tokens', 'tool_use']).toContain(second.stop_reason);
    });

    it('count_tokens counts the tools too: the same prompt as a generation with them', async () => {
      const params = {
        model: MODEL,
        tools: [weather],
        messages: [{ role: 'user' as const, content: 'Weather in Rome?' }],
      };
      const counted = await anthropic.messages.countTokens(params);
      const plain = await anthropic.messages.countTokens({
        model: MODEL,
        messages: params.messages,
      });
      const made = await anthropic.messages.create({ ...params, max_tokens: 1 });
      const prompt =
        made.usage.input_tokens +
        (made.usage.cache_read_input_tokens ?? 0) +
        (made.usage.cache_creation_input_tokens ?? 0);
      expect(counted.input_tokens).toBe(prompt);
      expect(counted.input_tokens).toBeGreaterThan(plain.input_tokens);
    });

    it('messages.stream: input_json_delta pieces add up to the same input', async () => {
      const stream = anthropic.messages.stream({
        model: MODEL,
        max_tokens: 130,
        ...GREEDY,
        tools: [weather],
        tool_choice: { type: 'any' },
        messages: [{ role: 'user', content: 'Weather in Oslo for three days?' }],
      });
      let json = '';
      for await (const e of stream)
        if (e.type === 'content_block_delta' && e.delta.type === 'input_json_delta')
          json += e.delta.partial_json;
      const final = await stream.finalMessage();
      const call = final.content.find((b) => b.type === 'tool_use') as Anthropic.ToolUseBlock;
      expect(fitsSchema(call.input)).toBe(true);
      expect(JSON.parse(json)).toEqual(call.input);
      expect(final.stop_reason).toBe('tool_use');
    });

    it('@ai-sdk/anthropic: generateText and streamText call the tool with a valid input', async () => {
      const provider = createAnthropic({
        baseURL: `${ANTHROPIC_URL}/v1`,
        apiKey,
        fetch: workerFetch,
      });
      const tools = {
        get_weather: tool({
          description: 'Weather forecast',
          inputSchema: jsonSchema(weatherSchema as never),
        }),
      };
      const request = {
        model: provider(MODEL),
        prompt: 'Weather in Rome?',
        tools,
        toolChoice: 'required' as const,
        maxOutputTokens: 130,
        temperature: 0,
        maxRetries: 0,
      };
      const whole = await generateText(request);
      expect(whole.toolCalls).toHaveLength(1);
      expect(fitsSchema(whole.toolCalls[0].input)).toBe(true);
      const streamed = streamText(request);
      const calls = await streamed.toolCalls;
      expect(calls.map((c) => c.input)).toEqual(whole.toolCalls.map((c) => c.input));
    });
  },
);

describe.skipIf(reason !== null)('@ai-sdk/anthropic text', () => {
  let apiKey: string;
  beforeAll(async () => {
    apiKey = await prepare();
  });

  it('generateText and streamText: the same greedy text, usage from our counts', async () => {
    const provider = createAnthropic({
      baseURL: `${ANTHROPIC_URL}/v1`,
      apiKey,
      fetch: workerFetch,
    });
    const request = {
      model: provider(MODEL),
      system: 'You tell stories.',
      prompt: 'Once upon a time',
      maxOutputTokens: 16,
      temperature: 0,
      maxRetries: 0,
    };
    const whole = await generateText(request);
    expect(whole.text.length).toBeGreaterThan(5);
    expect(whole.finishReason).toBe('length');
    expect(whole.usage.outputTokens).toBe(16);
    const stream = streamText(request);
    let text = '';
    for await (const delta of stream.textStream) text += delta;
    expect(text).toBe(whole.text);
    expect((await stream.usage).inputTokens).toBe(whole.usage.inputTokens);
    expect((await stream.usage).outputTokens).toBe(16);
  });

  it('errors surface as API call errors with our status and message', async () => {
    const provider = createAnthropic({
      baseURL: `${ANTHROPIC_URL}/v1`,
      apiKey,
      fetch: workerFetch,
    });
    const err = await generateText({
      model: provider('no-such-model'),
      prompt: 'hi',
      maxRetries: 0,
    }).catch((e) => e);
    expect(err.statusCode).toBe(400);
    expect(err.message).toMatch(/no-such-model/);
  });
});

/** What the mini origin's think block says (tests/dispatch/mini-origin.ts). */
const THOUGHT = '\nThe user wants a cat.\n';

describe.skipIf(reason !== null)(
  "claude names and thinking (the registry's DeepSeek aliases)",
  () => {
    let anthropic: Anthropic;
    beforeAll(async () => {
      const apiKey = await prepare();
      anthropic = new Anthropic({
        baseURL: ANTHROPIC_URL,
        apiKey,
        fetch: workerFetch,
        maxRetries: 0,
      });
      await Promise.all([seedFimModel(), origin('start', 'think')]);
    });
    afterAll(async () => {
      await origin('kill', 'think');
    });

    it('claude-sonnet/haiku names run deepseek-chat, as DeepSeek maps them', async () => {
      for (const name of ['claude-sonnet-4-5', 'claude-3-5-haiku-latest']) {
        const message = await anthropic.messages.create({
          model: name,
          max_tokens: 3,
          messages: [{ role: 'user', content: 'Hi' }],
        });
        expect(message.model).toBe('deepseek-chat');
        expect(message.usage.output_tokens).toBeGreaterThan(0);
      }
    });

    it('claude-opus runs the reasoning model: a thinking block with its signature, then the text', async () => {
      const request = {
        model: 'claude-opus-4-1',
        max_tokens: 12,
        thinking: { type: 'enabled' as const, budget_tokens: 1024 },
        messages: [{ role: 'user' as const, content: 'Tell me about a cat' }],
      };
      const message = await anthropic.messages.create(request);
      expect(message.model).toBe('deepseek-reasoner');
      expect(message.content[0]).toMatchObject({
        type: 'thinking',
        thinking: THOUGHT,
        signature: expect.any(String),
      });
      expect(message.content[1]).toMatchObject({ type: 'text' });
      const kinds: string[] = [];
      const stream = anthropic.messages.stream(request);
      for await (const e of stream) if (e.type === 'content_block_delta') kinds.push(e.delta.type);
      expect(kinds).toContain('thinking_delta');
      expect(kinds.indexOf('signature_delta')).toBeLessThan(kinds.indexOf('text_delta'));
      const final = await stream.finalMessage();
      expect(final.content[0]).toMatchObject({ type: 'thinking', thinking: THOUGHT });
      expect(final.usage.output_tokens).toBe(message.usage.output_tokens);
    });

    it('count_tokens on an origin model answers the estimate and says so', async () => {
      const res = await anthropic.messages
        .countTokens({
          model: 'deepseek-reasoner',
          messages: [{ role: 'user', content: 'Hi there' }],
        })
        .withResponse();
      expect(res.data.input_tokens).toBeGreaterThan(0);
      expect(res.response.headers.get('x-token-count')).toBe('estimate');
    });
  },
);
