// Vercel's AI SDK, unchanged but for base URL, key and fetch, against the Worker in workerd:
// generateObject / streamObject with a zod schema (@ai-sdk/openai-compatible with structured
// outputs on: `json_schema`), JSON mode through @ai-sdk/deepseek (it only sends `json_object`, as
// DeepSeek's API takes), and generateText with tools over several steps through both providers.
import { createDeepSeek } from '@ai-sdk/deepseek';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateObject, generateText, stepCountIs, streamObject, tool } from 'ai';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BASE_URL, MODEL, prepare, reason, workerFetch } from './setup';

const Pet = z.object({
  name: z.string().max(8),
  kind: z.enum(['cat', 'dog']),
  age: z.number().int().min(0).max(20),
});

describe.skipIf(reason !== null)('AI SDK: objects and tools', () => {
  let apiKey: string;
  const compatible = () =>
    createOpenAICompatible({
      name: 'edge',
      baseURL: BASE_URL,
      apiKey,
      fetch: workerFetch,
      supportsStructuredOutputs: true,
    });
  beforeAll(async () => {
    apiKey = await prepare();
  });

  it('generateObject with a zod schema (openai-compatible, json_schema)', async () => {
    const { object } = await generateObject({
      model: compatible()(MODEL),
      schema: Pet,
      prompt: 'A pet',
      temperature: 0.9,
      seed: 4,
      maxRetries: 0,
    });
    expect(Pet.parse(object)).toEqual(object);
  });

  it('streamObject with a zod schema: partial objects, then a valid one', async () => {
    const result = streamObject({
      model: compatible()(MODEL),
      schema: Pet,
      prompt: 'A pet',
      temperature: 0,
      maxRetries: 0,
    });
    let partials = 0;
    for await (const partial of result.partialObjectStream) if (partial) partials++;
    const object = await result.object;
    expect(partials).toBeGreaterThan(1);
    expect(Pet.parse(object)).toEqual(object);
  });

  it('@ai-sdk/deepseek JSON mode (json_object): a JSON object', async () => {
    const deepseek = createDeepSeek({ baseURL: BASE_URL, apiKey, fetch: workerFetch });
    const { object } = await generateObject({
      model: deepseek(MODEL),
      output: 'no-schema',
      prompt: 'A pet',
      temperature: 0.5,
      seed: 2,
      maxRetries: 0,
    });
    expect(typeof object === 'object' && object !== null && !Array.isArray(object)).toBe(true);
  });

  const weather = () => {
    const calls: { city: string }[] = [];
    const t = tool({
      description: 'weather',
      inputSchema: z.object({ city: z.string().max(6) }),
      execute: async ({ city }) => {
        calls.push({ city });
        return { sunny: city.length % 2 === 0 };
      },
    });
    return { t, calls };
  };

  it.each(['deepseek', 'openai-compatible'])(
    'generateText with tools over two steps (%s): calls executed, results sent back',
    async (provider) => {
      const bodies: string[] = [];
      const fetch = (input: string | URL | Request, init?: RequestInit) => {
        bodies.push(String(init?.body));
        return workerFetch(input, init);
      };
      const model =
        provider === 'deepseek'
          ? createDeepSeek({ baseURL: BASE_URL, apiKey, fetch })(MODEL)
          : createOpenAICompatible({ name: 'edge', baseURL: BASE_URL, apiKey, fetch })(MODEL);
      const { t, calls } = weather();
      const result = await generateText({
        model,
        tools: { weather: t },
        toolChoice: 'required',
        stopWhen: stepCountIs(2),
        prompt: 'Weather?',
        temperature: 0,
        maxRetries: 0,
      });
      expect(result.steps).toHaveLength(2);
      for (const step of result.steps) {
        expect(step.finishReason).toBe('tool-calls');
        expect(step.toolCalls).toHaveLength(1);
        expect(step.toolResults).toHaveLength(1);
      }
      expect(calls).toHaveLength(2);
      // the second request carried the first call and its result back
      const second = bodies[1];
      expect(second).toContain('"role":"tool"');
      expect(second).toContain(result.steps[0].toolCalls[0].toolCallId);
      for (const c of calls) expect(c.city.length).toBeLessThanOrEqual(6);
    },
  );
});
