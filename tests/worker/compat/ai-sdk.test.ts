// Vercel's AI SDK with its DeepSeek provider, unchanged but for base URL, key and fetch:
// generateText and streamText, with the provider's cache-hit metadata read from our usage.
import { createDeepSeek } from '@ai-sdk/deepseek';
import { generateText, streamText } from 'ai';
import { beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL, MODEL, prepare, reason, workerFetch } from './setup';

interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
  prompt_cache_hit_tokens: number;
  prompt_cache_miss_tokens: number;
}

/** Passes requests to the Worker and keeps the last usage it reported (JSON body or final SSE chunk). */
function recordingFetch() {
  const seen: { usage?: WireUsage; request?: Record<string, unknown> } = {};
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    seen.request = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
    const response = await workerFetch(input, init);
    const text = await response.text();
    const bodies = response.headers.get('content-type')?.includes('event-stream')
      ? text
          .split('\n')
          .filter((l) => l.startsWith('data: {'))
          .map((l) => JSON.parse(l.slice(6)))
      : [JSON.parse(text)];
    for (const b of bodies) if (b.usage) seen.usage = b.usage;
    return new Response(text, { status: response.status, headers: response.headers });
  };
  return { fetch, seen };
}

describe.skipIf(reason !== null)('@ai-sdk/deepseek', () => {
  let apiKey: string;
  beforeAll(async () => {
    apiKey = await prepare();
  });

  it('generateText: text, usage, and cache-hit metadata equal to what the server reported', async () => {
    const { fetch, seen } = recordingFetch();
    const deepseek = createDeepSeek({ baseURL: BASE_URL, apiKey, fetch });
    const result = await generateText({
      model: deepseek(MODEL),
      prompt: 'Once upon a time',
      maxOutputTokens: 16,
      temperature: 0,
      maxRetries: 0,
    });
    expect(result.text.length).toBeGreaterThan(5);
    expect(result.finishReason).toBe('length');
    const usage = seen.usage!;
    expect(result.usage.inputTokens).toBe(usage.prompt_tokens);
    expect(result.usage.outputTokens).toBe(16);
    expect(result.usage.inputTokenDetails.cacheReadTokens).toBe(usage.prompt_cache_hit_tokens);
    expect(result.usage.inputTokenDetails.noCacheTokens).toBe(usage.prompt_cache_miss_tokens);
    expect(result.providerMetadata?.deepseek).toMatchObject({
      promptCacheHitTokens: usage.prompt_cache_hit_tokens,
      promptCacheMissTokens: usage.prompt_cache_miss_tokens,
    });
    expect(usage.prompt_cache_hit_tokens + usage.prompt_cache_miss_tokens).toBe(
      usage.prompt_tokens,
    );
  });

  it('streamText: the streamed text equals generateText, with usage and metadata at the end', async () => {
    const { fetch, seen } = recordingFetch();
    const deepseek = createDeepSeek({ baseURL: BASE_URL, apiKey, fetch });
    const request = {
      model: deepseek(MODEL),
      prompt: 'The little dog',
      maxOutputTokens: 24,
      temperature: 0,
      maxRetries: 0,
    };
    const whole = await generateText(request);
    const stream = streamText(request);
    let text = '';
    for await (const delta of stream.textStream) text += delta;
    expect(text).toBe(whole.text);
    expect(seen.request).toMatchObject({ stream: true });
    const usage = seen.usage!;
    expect((await stream.usage).outputTokens).toBe(usage.completion_tokens);
    expect((await stream.usage).inputTokenDetails.cacheReadTokens).toBe(
      usage.prompt_cache_hit_tokens,
    );
    expect((await stream.providerMetadata)?.deepseek).toMatchObject({
      promptCacheHitTokens: usage.prompt_cache_hit_tokens,
      promptCacheMissTokens: usage.prompt_cache_miss_tokens,
    });
  });

  it('our errors surface as its API call errors with status and message', async () => {
    const deepseek = createDeepSeek({ baseURL: BASE_URL, apiKey, fetch: workerFetch });
    const err = await generateText({
      model: deepseek('no-such-model'),
      prompt: 'hi',
      maxRetries: 0,
    }).catch((e) => e);
    expect(err.statusCode).toBe(404);
    expect(err.message).toMatch(/no-such-model/);
  });
});
