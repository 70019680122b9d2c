// The official `openai` client, unchanged but for base URL and key, drives the real Worker in
// workerd; its greedy text must equal the generate CLI's for the same request.
import { exports } from 'cloudflare:workers';
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { provisionKey } from './billing/setup';
import { cli, seedStories260k, sharedModelsPresent, skipReason } from './seed';

const client = new OpenAI({
  baseURL: 'http://edge.test/v1',
  apiKey: (await provisionKey()).key,
  fetch: (url, init) => exports.default.fetch(new Request(url, init)),
  maxRetries: 0,
});

const present = await sharedModelsPresent();
const reason = skipReason(present);

describe.skipIf(reason !== null)('openai client against stories260k', () => {
  beforeAll(async () => {
    await seedStories260k();
  });

  it('lists the model', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain('stories260k');
  });

  it('chat completion (greedy) equals the CLI', async () => {
    const prompt = 'Once upon a time';
    const maxTokens = 40;
    const { data: res, response } = await client.chat.completions
      .create({
        model: 'stories260k',
        messages: [{ role: 'user', content: prompt }],
        max_tokens: maxTokens,
        temperature: 0,
      })
      .withResponse();
    const expected = await cli({ prompt, steps: 4 + maxTokens, temperature: 0 }); // 5 prompt ids incl. BOS
    expect(res.choices[0].message.content).toBe(expected.completion);
    expect(res.choices[0].finish_reason).toBe('length');
    expect(res.usage).toMatchObject({
      prompt_tokens: 5,
      completion_tokens: maxTokens,
      total_tokens: 5 + maxTokens,
    });
    expect(res.usage).toMatchObject({
      prompt_cache_hit_tokens: 0,
      prompt_cache_miss_tokens: 5,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    expect(response.headers.get('x-request-id')).toMatch(/\S+/);
    // Latency: a Server-Timing header and usage.timing, which the client keeps as it came.
    expect(response.headers.get('server-timing')).toMatch(/\bttft;dur=\d+(\.\d)?/);
    expect((res.usage as { timing?: { ttft_ms: number } }).timing?.ttft_ms).toEqual(
      expect.any(Number),
    );
    expect(res.model).toBe('stories260k');
  });

  it('streamed chat equals the non-streamed text, with a usage chunk', async () => {
    const request = {
      model: 'stories260k',
      messages: [{ role: 'user' as const, content: 'The little dog' }],
      max_tokens: 50,
      temperature: 0,
    };
    const whole = await client.chat.completions.create(request);
    const stream = await client.chat.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usageChunks = 0;
    let finish: string | null = null;
    for await (const chunk of stream) {
      if (chunk.choices.length === 0) {
        usageChunks++;
        expect(chunk.usage?.completion_tokens).toBe(whole.usage?.completion_tokens);
        // Our latency extension reaches the caller through the client's own parsing, untouched.
        const timing = (chunk.usage as { timing?: Record<string, unknown> }).timing;
        expect(timing?.ttft_ms).toEqual(expect.any(Number));
      } else {
        text += chunk.choices[0].delta.content ?? '';
        finish = chunk.choices[0].finish_reason ?? finish;
      }
    }
    expect(text).toBe(whole.choices[0].message.content);
    expect(text.length).toBeGreaterThan(20);
    expect(usageChunks).toBe(1);
    expect(finish).toBe(whole.choices[0].finish_reason);
  });

  it('legacy completions (JSON and stream) equal the CLI', async () => {
    const prompt = 'Lily wanted to';
    const res = await client.completions.create({
      model: 'stories260k',
      prompt,
      max_tokens: 64,
      temperature: 0,
    });
    const usage = res.usage!;
    const expected = await cli({
      prompt,
      steps: usage.prompt_tokens - 1 + usage.completion_tokens,
      temperature: 0,
    });
    expect(res.choices[0].text).toBe(expected.completion);
    expect(res.choices[0].text.length).toBeGreaterThan(30);
    const stream = await client.completions.create({
      model: 'stories260k',
      prompt,
      max_tokens: 64,
      temperature: 0,
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(res.choices[0].text);
  });

  it('seeded sampling is reproducible and differs across seeds', async () => {
    const request = {
      model: 'stories260k',
      messages: [{ role: 'user' as const, content: 'Once upon a time' }],
      max_tokens: 60,
      temperature: 1,
      top_p: 0.9,
    };
    const a = await client.chat.completions.create({ ...request, seed: 42 });
    const b = await client.chat.completions.create({ ...request, seed: 42 });
    const c = await client.chat.completions.create({ ...request, seed: 7 });
    expect(a.choices[0].message.content).toBe(b.choices[0].message.content);
    expect(c.choices[0].message.content).not.toBe(a.choices[0].message.content);
  });

  it('stops at a stop string and leaves it out', async () => {
    const base = {
      model: 'stories260k',
      messages: [{ role: 'user' as const, content: 'Once upon a time' }],
      max_tokens: 80,
      temperature: 0,
    };
    const full = (await client.chat.completions.create(base)).choices[0].message.content!;
    const cut = full.indexOf('Lily');
    expect(cut).toBeGreaterThan(0);
    const stopped = await client.chat.completions.create({ ...base, stop: ['Lily'] });
    expect(stopped.choices[0].message.content).toBe(full.slice(0, cut));
    expect(stopped.choices[0].finish_reason).toBe('stop');
  });

  it('maps errors onto the client error classes', async () => {
    await expect(
      client.chat.completions.create({
        model: 'no-such-model',
        messages: [{ role: 'user', content: 'hi' }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(
      client.chat.completions.create({
        model: 'stories260k',
        messages: [{ role: 'user', content: 'hi' }],
        temperature: 5,
      }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    const long = 'once upon a time there was a dog. '.repeat(200);
    const err = await client.chat.completions
      .create({ model: 'stories260k', messages: [{ role: 'user', content: long }] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.code).toBe('context_length_exceeded');
  });
});
