// DeepSeek's reasoning and a fallback the client can refuse, through the real Worker in workerd:
// `deepseek-reasoner` is an alias of a pool whose origin (the mini origin, a real process) writes
// its think block as raw text with the tags cut across frames; another sends `reasoning_content`
// itself (vLLM's reasoning parser). Read by @ai-sdk/deepseek (reasoning parts) and the openai
// client (`reasoning_content` in JSON and SSE). On the edge, a reasoning alias of a random model
// whose template opens `<think>`, with `</think>` banned so the block never closes.
import { createDeepSeek } from '@ai-sdk/deepseek';
import { generateText, streamText } from 'ai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../billing/setup';
import { origin, seedTinyEdge } from '../dispatch/helpers';
import { seedFimModel } from './deepseek-models';
import { prepare, workerFetch } from './setup';

const ROOT = 'http://edge.test';
/** What the mini origin's think block says (tests/dispatch/mini-origin.ts). */
const THOUGHT = '\nThe user wants a cat.\n';
type Message = { content: string | null; reasoning_content?: string };
type Usage = {
  completion_tokens: number;
  completion_tokens_details?: { reasoning_tokens: number };
};

let apiKey: string;
let client: OpenAI;
beforeAll(async () => {
  apiKey = await prepare();
  client = new OpenAI({ baseURL: ROOT, apiKey, fetch: workerFetch, maxRetries: 0 });
  await Promise.all([
    seedFimModel(),
    seedTinyEdge(),
    origin('start', 'think'),
    origin('start', 'thinkf'),
  ]);
});
afterAll(async () => {
  await Promise.all([origin('kill', 'think'), origin('kill', 'thinkf')]);
});

const ask = (model: string, extra: object = {}) =>
  client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'Tell me about a cat' }],
    max_tokens: 6,
    ...extra,
  } as never) as unknown as Promise<OpenAI.ChatCompletion>;

describe('reasoning from an origin that sends raw <think> text', () => {
  it('@ai-sdk/deepseek: generateText has the reasoning and the answer apart', async () => {
    const deepseek = createDeepSeek({ baseURL: ROOT, apiKey, fetch: workerFetch });
    const result = await generateText({
      model: deepseek('deepseek-reasoner'),
      prompt: 'Tell me about a cat',
      maxOutputTokens: 6,
      maxRetries: 0,
    });
    expect(result.reasoningText).toBe(THOUGHT);
    expect(result.text.length).toBeGreaterThan(0);
    expect(result.text).not.toContain('think>');
    expect(result.response.modelId).toBe('deepseek-reasoner');
  });

  it('@ai-sdk/deepseek: streamText sends reasoning parts before the text', async () => {
    const deepseek = createDeepSeek({ baseURL: ROOT, apiKey, fetch: workerFetch });
    const result = streamText({
      model: deepseek('deepseek-reasoner'),
      prompt: 'Tell me about a cat',
      maxOutputTokens: 6,
      maxRetries: 0,
    });
    const parts: { type: string; text?: string }[] = [];
    for await (const part of result.fullStream) parts.push(part as never);
    const types = parts.map((p) => p.type);
    const reasoning = parts
      .filter((p) => p.type === 'reasoning-delta')
      .map((p) => p.text)
      .join('');
    expect(reasoning).toBe(THOUGHT);
    expect(types.lastIndexOf('reasoning-delta')).toBeLessThan(types.indexOf('text-delta'));
    expect(await result.text).not.toContain('think>');
  });

  it('openai client: reasoning_content in JSON and in SSE deltas, counted in reasoning_tokens', async () => {
    const json = await ask('deepseek-reasoner');
    const message = json.choices[0].message as unknown as Message;
    expect(message.reasoning_content).toBe(THOUGHT);
    expect(json.model).toBe('deepseek-reasoner');
    // the think block was 7 upstream pieces: each is a token
    expect((json.usage as Usage).completion_tokens_details).toEqual({ reasoning_tokens: 7 });
    const stream = await client.chat.completions.create({
      model: 'deepseek-reasoner',
      messages: [{ role: 'user', content: 'Tell me about a cat' }],
      max_tokens: 6,
      stream: true,
    });
    const deltas: Message[] = [];
    for await (const chunk of stream)
      if (chunk.choices[0]) deltas.push(chunk.choices[0].delta as never);
    const firstContent = deltas.findIndex((d) => d.content);
    const lastReasoning = deltas.findLastIndex((d) => d.reasoning_content);
    expect(lastReasoning).toBeLessThan(firstContent);
    expect(deltas.map((d) => d.reasoning_content ?? '').join('')).toBe(THOUGHT);
    expect(deltas.map((d) => d.content ?? '').join('')).toBe(message.content);
  });

  it('thinking disabled: no think block asked for, none split; the origin was told each time', async () => {
    const off = await ask('deepseek-reasoner', { thinking: { type: 'disabled' } });
    const message = off.choices[0].message as unknown as Message;
    expect(message.reasoning_content).toBeUndefined();
    expect(message.content).not.toContain('think>');
    const { bodies } = (await origin('stats', 'think')) as unknown as {
      bodies: { thinking?: unknown; model: string }[];
    };
    expect(bodies.at(-1)!.thinking).toEqual({ type: 'disabled' });
    expect(bodies.at(-2)!.thinking).toEqual({ type: 'enabled' });
    // the origin is asked for its own model, never the alias
    expect(bodies.every((b) => b.model === 'pool-think')).toBe(true);
  });

  it('a prefix completion continues the answer: content, not reasoning, and no think block asked for', async () => {
    const messages = [
      { role: 'user', content: 'Tell me about a cat' },
      { role: 'assistant', content: 'A cat is', prefix: true },
    ];
    const json = await ask('deepseek-reasoner', { messages });
    const message = json.choices[0].message as unknown as Message;
    expect(message.reasoning_content).toBeUndefined();
    expect(message.content!.length).toBeGreaterThan(0);
    expect(message.content).not.toContain('think>');
    expect((json.usage as Usage).completion_tokens_details).toBeUndefined();
    const { bodies } = (await origin('stats', 'think')) as unknown as {
      bodies: { thinking?: unknown }[];
    };
    expect(bodies.at(-1)!.thinking).toBeUndefined();
    const stream = await client.chat.completions.create({
      model: 'deepseek-reasoner',
      messages,
      max_tokens: 6,
      stream: true,
    } as never);
    const deltas: Message[] = [];
    for await (const chunk of stream as never as AsyncIterable<OpenAI.ChatCompletionChunk>)
      if (chunk.choices[0]) deltas.push(chunk.choices[0].delta as never);
    expect(deltas.some((d) => d.reasoning_content)).toBe(false);
    expect(deltas.map((d) => d.content ?? '').join('')).toBe(message.content);
  });

  it('an origin that sends reasoning_content itself passes through', async () => {
    const json = await ask('pool-thinkf');
    const message = json.choices[0].message as unknown as Message;
    expect(message.reasoning_content).toBe(THOUGHT);
    expect(message.content!.length).toBeGreaterThan(0);
    expect((json.usage as Usage).completion_tokens_details?.reasoning_tokens).toBe(5);
  });
});

describe('reasoning on the edge', () => {
  // 270 is `</think>`; sampled (this random model repeats a newline when greedy), with a seed
  const noClose = { logit_bias: { 270: -100 }, temperature: 1, seed: 5 };
  it('a reasoning alias opens the think block: all the text is reasoning, every token counted', async () => {
    const json = await ask('deepseek-think-edge', noClose);
    const message = json.choices[0].message as unknown as Message;
    expect(message.content).toBe('');
    expect(message.reasoning_content!.length).toBeGreaterThan(0);
    const usage = json.usage as Usage;
    expect(usage.completion_tokens_details?.reasoning_tokens).toBe(usage.completion_tokens);
    const stream = await client.chat.completions.create({
      model: 'deepseek-think-edge',
      messages: [{ role: 'user', content: 'Tell me about a cat' }],
      max_tokens: 6,
      stream: true,
      ...noClose,
    } as never);
    let reasoning = '';
    for await (const chunk of stream as never as AsyncIterable<OpenAI.ChatCompletionChunk>)
      reasoning += (chunk.choices[0]?.delta as Message | undefined)?.reasoning_content ?? '';
    expect(reasoning).toBe(message.reasoning_content);
  });

  it('logprobs: one entry per token, streamed or whole, reasoning tokens included', async () => {
    const body = { ...noClose, logprobs: true, top_logprobs: 1 };
    const json = await ask('deepseek-think-edge', body);
    const tokens = json.usage!.completion_tokens;
    expect(json.choices[0].logprobs!.content).toHaveLength(tokens);
    const stream = await client.chat.completions.create({
      model: 'deepseek-think-edge',
      messages: [{ role: 'user', content: 'Tell me about a cat' }],
      max_tokens: 6,
      stream: true,
      ...body,
    } as never);
    const streamed: string[] = [];
    for await (const chunk of stream as never as AsyncIterable<OpenAI.ChatCompletionChunk>)
      for (const e of chunk.choices[0]?.logprobs?.content ?? []) streamed.push(e.token);
    expect(streamed).toEqual(json.choices[0].logprobs!.content!.map((e) => e.token));
  });

  it('thinking disabled, or a plain alias: content only', async () => {
    for (const res of [
      await ask('deepseek-think-edge', { ...noClose, thinking: { type: 'disabled' } }),
      await ask('deepseek-chat', noClose),
    ]) {
      const message = res.choices[0].message as unknown as Message;
      expect(message.reasoning_content).toBeUndefined();
      expect(message.content!.length).toBeGreaterThan(0);
    }
  });
});

describe('a fallback the client can see and refuse', () => {
  const chat = (model: string, headers: Record<string, string> = {}) =>
    call('/chat/completions', {
      method: 'POST',
      key: apiKey,
      headers,
      body: JSON.stringify({
        model,
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 2,
      }),
    });

  it('origin down: the fallback answers under its own name, headers say so', async () => {
    const res = await chat('pool-down');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { model: string }).model).toBe('tiny-edge');
    expect(res.headers.get('x-served-by')).toBe('edge:tiny-edge');
    expect(res.headers.get('x-fallback-from')).toBe('pool-down');
  });

  it('x-fallback: none refuses it: a 503 with retry-after', async () => {
    const res = await chat('pool-down', { 'x-fallback': 'none' });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toMatch(/unavailable/);
    expect(body.error.message).toMatch(/fallbacks were not tried: the request refused them/);
    const bad = await chat('pool-down', { 'x-fallback': 'maybe' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('x-fallback');
  });

  it('a registry entry with fallback: false refuses it for every client', async () => {
    const res = await chat('pool-down-strict');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).not.toBeNull();
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(/the registry says fallback: false/);
  });
});
