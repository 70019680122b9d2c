// The real origin process (`npm run origin -- --model synthetic:tiny`), driven over HTTP: concurrent
// streams, greedy parity with the unbatched reference model, the prefix cache and its tenant salt,
// /health, /metrics, and backpressure (queue full, disconnect).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletionChunk, Completion } from '../../protocol/responses';
import type { Usage } from '../../protocol/usage';
import {
  metric,
  parsePrometheus,
  readSse,
  startOrigin,
  waitFor,
  type RunningOrigin,
} from './helpers';
import { findFimTokens, renderFim } from '../../engine/tokenizers/fim';
import { chatIds, referenceGreedyText, syntheticWeights, tokenizerOf } from './reference-text';

const MODEL = 'synthetic-tiny';
const weights = syntheticWeights('tiny');
const tokenizer = tokenizerOf(weights);

const post = (
  base: string,
  path: string,
  body: object,
  headers: Record<string, string> = {},
  signal?: AbortSignal,
) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: MODEL, ...body }),
    signal,
  });

const getJson = async (url: string) =>
  (await fetch(url)).json() as Promise<Record<string, unknown>>;

function expectUsage(u: Usage, prompt: number, completion: number, cached = 0): void {
  expect(u).toMatchObject({
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_cache_hit_tokens: cached,
    prompt_cache_miss_tokens: prompt - cached,
    prompt_tokens_details: { cached_tokens: cached },
  });
}

describe('origin process: batching, prefix cache, metrics', () => {
  const N = 40;
  const prompts = Array.from(
    { length: 16 },
    (_, i) => `Stream ${i}: ${'abcdefghij'.slice(0, i % 10)} once upon a time`,
  );
  const greedy = new Set([0, 5, 10, 15]);
  const promptIds = prompts.map((content) => chatIds(weights, [{ role: 'user', content }]));
  const longPrompt = `A long shared system prompt for the prefix cache test. ${'The quick brown fox jumps over the lazy dog. '.repeat(35)}`;
  // The reference texts take seconds of synchronous work (a 129K-row lm_head in plain JS): done
  // before any request, so no keep-alive socket idles past the server's timeout while the loop is busy.
  const expected = new Map<string, string>();
  let origin: RunningOrigin;
  beforeAll(async () => {
    for (const i of greedy) expected.set(prompts[i], referenceGreedyText(weights, promptIds[i], N));
    expected.set(longPrompt, referenceGreedyText(weights, longPrompt, 12));
    origin = await startOrigin([
      '--model',
      'synthetic:tiny',
      '--backend',
      'reference', // the CPU backend's old name: an alias that changes nothing (health says cpu)
      '--max-seqs',
      '16',
    ]);
  });
  afterAll(async () => {
    await origin?.stop();
  });

  it('runs 16 concurrent streams to completion with correct usage; greedy ones equal the unbatched reference', async () => {
    const runs = prompts.map(async (prompt, i) => {
      const sampling = greedy.has(i)
        ? { temperature: 0 }
        : { temperature: 0.8, top_p: 0.9, seed: i };
      const res = await post(origin.url, '/v1/chat/completions', {
        messages: [{ role: 'user', content: prompt }],
        max_tokens: N,
        stream: true,
        stream_options: { include_usage: true },
        ignore_eos: true,
        ...sampling,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      return readSse(res);
    });
    const streams = await Promise.all(runs);
    streams.forEach((frames, i) => {
      expect(frames.at(-1)).toBe('[DONE]');
      const chunks = frames.slice(0, -1) as ChatCompletionChunk[];
      expect(chunks[0].choices[0].delta.role).toBe('assistant');
      const usageChunk = chunks.at(-1)!;
      expect(usageChunk.choices).toEqual([]);
      expectUsage(usageChunk.usage!, promptIds[i].length, N);
      expect(chunks.at(-2)!.choices[0].finish_reason).toBe('length');
      if (greedy.has(i)) {
        const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
        expect(text).toBe(expected.get(prompts[i]));
      }
    });
    const { samples } = parsePrometheus(await (await fetch(`${origin.url}/metrics`)).text());
    const steps = metric(samples, 'origin_batch_size_count');
    const upTo8 = metric(samples, 'origin_batch_size_bucket', { le: '8' });
    expect(steps - upTo8, 'steps that batched more than 8 sequences').toBeGreaterThan(0);
    expect(metric(samples, 'origin_completion_tokens_total')).toBeGreaterThanOrEqual(16 * N);
  });

  it('restores a long prompt from the prefix cache, per tenant salt, with the same greedy text', async () => {
    const prompt = longPrompt;
    const promptTokens = tokenizer.encode(prompt).length;
    // Every whole block is restored; the last prompt token is always computed.
    const cachedWhenHit = Math.min(Math.floor(promptTokens / 64) * 64, promptTokens - 1);
    expect(cachedWhenHit).toBeGreaterThanOrEqual(256);
    const ask = async (salt: string) => {
      const res = await post(
        origin.url,
        '/v1/completions',
        { prompt, max_tokens: 12, temperature: 0, ignore_eos: true },
        { 'x-cache-salt': salt },
      );
      expect(res.status).toBe(200);
      return (await res.json()) as Completion;
    };
    const cold = await ask('tenant-a');
    expectUsage(cold.usage!, promptTokens, 12, 0);
    const warm = await ask('tenant-a');
    expectUsage(warm.usage!, promptTokens, 12, cachedWhenHit);
    expect(warm.choices[0].text).toBe(cold.choices[0].text);
    expect(cold.choices[0].text).toBe(expected.get(prompt));
    const otherTenant = await ask('tenant-b');
    expectUsage(otherTenant.usage!, promptTokens, 12, 0);
    expect(otherTenant.choices[0].text).toBe(cold.choices[0].text);

    const { samples } = parsePrometheus(await (await fetch(`${origin.url}/metrics`)).text());
    expect(metric(samples, 'origin_prefix_cache_hit_tokens_total')).toBeGreaterThanOrEqual(
      cachedWhenHit,
    );
    expect(metric(samples, 'origin_prefix_cache_blocks')).toBeGreaterThanOrEqual(
      2 * Math.floor(promptTokens / 64),
    );
  });

  it('serves /health, /v1/models and Prometheus /metrics', async () => {
    const health = await getJson(`${origin.url}/health`);
    expect(health).toMatchObject({
      status: 'ok',
      model: MODEL,
      backend: 'cpu',
      queue_depth: 0,
      active_sequences: 0,
      max_sequences: 16,
    });
    const models = await getJson(`${origin.url}/v1/models`);
    expect(models).toMatchObject({
      object: 'list',
      data: [{ id: MODEL, object: 'model', placement: 'origin', context_length: 2048 }],
    });

    const res = await fetch(`${origin.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const { types, samples } = parsePrometheus(await res.text());
    expect(Object.fromEntries(types)).toMatchObject({
      origin_requests_total: 'counter',
      origin_prompt_tokens_total: 'counter',
      origin_completion_tokens_total: 'counter',
      origin_prefix_cache_hit_tokens_total: 'counter',
      origin_queue_depth: 'gauge',
      origin_active_sequences: 'gauge',
      origin_batch_size: 'histogram',
      origin_step_seconds: 'histogram',
    });
    expect(
      metric(samples, 'origin_requests_total', { endpoint: '/v1/chat/completions', status: '200' }),
    ).toBeGreaterThanOrEqual(16);
  });

  it('answers errors in the Worker shape', async () => {
    const wrongModel = await fetch(`${origin.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'nope', prompt: 'x' }),
    });
    expect(wrongModel.status).toBe(404);
    expect(await wrongModel.json()).toMatchObject({
      error: { code: 'model_not_found', param: 'model', type: 'invalid_request_error' },
    });
    const tooLong = await post(origin.url, '/v1/completions', { prompt: 'x', max_tokens: 5000 });
    expect(tooLong.status).toBe(400);
    expect(await tooLong.json()).toMatchObject({
      error: { code: 'context_length_exceeded', param: 'max_tokens' },
    });
    const badBody = await post(origin.url, '/v1/chat/completions', { messages: [] });
    expect(badBody.status).toBe(400);
    expect(((await badBody.json()) as { error: { param: string } }).error.param).toBe('messages');
    // FIM in the tokenizer's own FIM tokens: the synthetic presets have DeepSeek-V3's, so `suffix`
    // is rendered around the prompt (a tokenizer without them answers 400 fim_not_supported).
    const fim = await post(origin.url, '/v1/completions', {
      prompt: 'def f(',
      suffix: ')',
      max_tokens: 2,
    });
    expect(fim.status).toBe(200);
    const fimTokens = findFimTokens(tokenizer);
    expect(fimTokens).not.toBeNull();
    const rendered = renderFim(fimTokens!, 'def f(', ')');
    expect(((await fim.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens).toBe(
      tokenizer.encode(rendered).length,
    );
  });
});

describe('origin process: backpressure', () => {
  let origin: RunningOrigin;
  beforeAll(async () => {
    origin = await startOrigin([
      '--model',
      'synthetic:tiny',
      '--max-seqs',
      '1',
      '--max-queue',
      '1',
    ]);
  });
  afterAll(async () => {
    await origin?.stop();
  });

  const health = () =>
    getJson(`${origin.url}/health`) as Promise<{ active_sequences: number; queue_depth: number }>;
  const long = {
    prompt: 'Tell me a very long story.',
    max_tokens: 2000,
    temperature: 0,
    ignore_eos: true,
    stream: true,
  };

  it('frees the slot when a streaming client disconnects', async () => {
    const abort = new AbortController();
    const res = await post(origin.url, '/v1/completions', long, {}, abort.signal);
    const reader = res.body!.getReader();
    await reader.read(); // the stream is running
    expect((await health()).active_sequences).toBe(1);
    abort.abort();
    await waitFor(
      async () => (await health()).active_sequences === 0,
      10_000,
      'the slot to be freed',
    );
    const next = await post(origin.url, '/v1/completions', {
      prompt: 'hi',
      max_tokens: 4,
      temperature: 0,
    });
    expect(next.status).toBe(200);
    expect(((await next.json()) as Completion).usage!.completion_tokens).toBeGreaterThan(0);
  });

  it('answers 503 with retry-after when the queue is full, and recovers', async () => {
    const running = new AbortController(),
      queued = new AbortController();
    const first = await post(origin.url, '/v1/completions', long, {}, running.signal);
    await first.body!.getReader().read();
    const second = post(origin.url, '/v1/completions', long, {}, queued.signal).catch(() => null); // waits for a slot
    await waitFor(
      async () => (await health()).queue_depth === 1,
      10_000,
      'the second request to queue',
    );
    const third = await post(origin.url, '/v1/completions', { prompt: 'hi', max_tokens: 4 });
    expect(third.status).toBe(503);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await third.json()).toMatchObject({
      error: { type: 'service_unavailable', code: 'overloaded' },
    });
    queued.abort();
    running.abort();
    await second;
    await waitFor(
      async () => {
        const h = await health();
        return h.active_sequences === 0 && h.queue_depth === 0;
      },
      10_000,
      'the origin to drain',
    );
    const { samples } = parsePrometheus(await (await fetch(`${origin.url}/metrics`)).text());
    expect(
      metric(samples, 'origin_requests_total', { endpoint: '/v1/completions', status: '503' }),
    ).toBe(1);
  });
});
