// The upstream client and relay against real origin processes on loopback ports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HealthBoard } from '../../dispatch/health';
import {
  collect,
  normalizeUsage,
  relay,
  type RelayContext,
  type RelayStatus,
} from '../../dispatch/relay';
import { ModelRegistry, type OriginPool } from '../../dispatch/registry';
import { SseReader } from '../../dispatch/sse';
import { openUpstream, UpstreamError, type UpstreamRequest } from '../../dispatch/upstream';
import { startOrigin, type OriginProcess } from './spawn-origin';

let fast: OriginProcess;
let stalled: OriginProcess;
let full: OriginProcess;
let split: OriginProcess;
const DEAD = 'http://127.0.0.1:9'; // discard port: nothing listens, the connection is refused

beforeAll(async () => {
  [fast, stalled, full, split] = await Promise.all([
    startOrigin({ name: 'fast' }),
    startOrigin({ name: 'stalled', stall: true }),
    startOrigin({ name: 'full', maxConcurrency: 0 }),
    startOrigin({ name: 'split', splitClientReady: true }),
  ]);
});
afterAll(async () => {
  await Promise.all([fast, stalled, full, split].map((o) => o?.kill()));
});

function poolOf(
  urls: string[],
  timeouts = { connect_ms: 2_000, first_token_ms: 1_500, total_ms: 20_000 },
): OriginPool {
  const reg = ModelRegistry.parse({
    models: {
      m: {
        placement: 'origin',
        origins: urls.map((url) => ({ url })),
        timeouts,
        upstream_model: 'tiny',
      },
    },
  });
  return reg.get('m') as OriginPool;
}

const request = (pool: OriginPool, body: Record<string, unknown> = {}): UpstreamRequest => ({
  pool,
  path: '/v1/chat/completions',
  body: {
    model: 'tiny',
    messages: [{ role: 'user', content: 'Once upon a time' }],
    max_tokens: 8,
    stream: true,
    stream_options: { include_usage: true },
    ...body,
  },
  requestId: 'req-123',
  salt: 'tenant-a',
});

function context(
  includeUsage: boolean,
  settled: { status: RelayStatus; completion: number }[] = [],
): RelayContext {
  return {
    id: 'chatcmpl-ours',
    model: 'm',
    created: 1,
    fingerprint: 'fp_ours',
    object: 'chat.completion.chunk',
    includeUsage,
    promptEstimate: 4,
    settle: async (status, r) => {
      settled.push({ status, completion: r.usage.completion_tokens });
      return {
        currency: 'USD',
        unit: 'nano',
        input_cache_hit: 0,
        input_cache_miss: 1,
        output: 2,
        total: 3,
        off_peak: false,
      };
    },
  };
}

/** Every SSE frame the relay wrote (a write may carry several), as `data: …\n\n` strings. */
async function text(gen: AsyncGenerator<string>): Promise<string[]> {
  const frames: string[] = [];
  for await (const chunk of gen) frames.push(...chunk.split(/(?<=\n\n)/));
  return frames;
}

describe('openUpstream', () => {
  it('relays frames with our id and model, usage mapped, cost at the end; salt and request id reach the origin', async () => {
    const health = new HealthBoard();
    const up = await openUpstream(
      [{ url: fast.url, weight: 1 }],
      request(poolOf([fast.url])),
      health,
    );
    expect(up.served).toBe(`origin:127.0.0.1:${fast.port}`);
    expect(up.attempts).toBe(1);
    const settled: { status: RelayStatus; completion: number }[] = [];
    const frames = await text(relay(up, context(true, settled), () => ({ error: 'x' })));
    expect(frames.at(-1)).toBe('data: [DONE]\n\n');
    const parsed = frames.slice(0, -1).map((f) => JSON.parse(f.slice(6)));
    expect(parsed.every((f) => f.id === 'chatcmpl-ours' && f.model === 'm')).toBe(true);
    expect(parsed[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(parsed.slice(0, -1).every((f) => f.usage === null)).toBe(true);
    const usage = parsed.at(-1).usage;
    expect(parsed.at(-1).choices).toEqual([]);
    expect(usage).toMatchObject({
      completion_tokens: 8,
      prompt_cache_hit_tokens: 0,
      prompt_tokens_details: { cached_tokens: 0 },
      cost: { total: 3 },
    });
    expect(usage.prompt_cache_miss_tokens).toBe(usage.prompt_tokens);
    expect(parsed.filter((f) => f.choices[0]?.delta?.content).length).toBe(8);
    expect(settled).toEqual([{ status: 'completed', completion: 8 }]);
    const stats = await fast.stats();
    expect(stats.salts.at(-1)).toBe('tenant-a');
    expect(stats.requestIds.at(-1)).toBe('req-123');
    expect(health.snapshot(fast.url)).toMatchObject({ circuit: 'closed', inflight: 0 });
  });

  it('without include_usage the finish frame carries the usage and cost, and no usage chunk is sent', async () => {
    const up = await openUpstream(
      [{ url: fast.url, weight: 1 }],
      request(poolOf([fast.url])),
      new HealthBoard(),
    );
    const frames = (await text(relay(up, context(false), () => ({}))))
      .slice(0, -1)
      .map((f) => JSON.parse(f.slice(6)));
    expect(frames.slice(0, -1).every((f) => !('usage' in f))).toBe(true);
    expect(frames.at(-1).choices[0].finish_reason).toBe('length');
    expect(frames.at(-1).usage.cost.total).toBe(3);
  });

  it('retries before the first byte: a refused origin, then a stalled one, then one that answers', async () => {
    const health = new HealthBoard();
    const pool = poolOf([DEAD, stalled.url, fast.url], {
      connect_ms: 2_000,
      first_token_ms: 800,
      total_ms: 20_000,
    });
    const started = Date.now();
    const up = await openUpstream(pool.origins, request(pool), health);
    expect(up.origin.url).toBe(fast.url);
    expect(up.attempts).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    const result = await collect(up, context(true));
    expect(result.usage.completion_tokens).toBe(8);
    expect(health.snapshot(DEAD).circuit).toBe('open'); // refused: open at once
    expect(health.snapshot(stalled.url)).toMatchObject({ circuit: 'closed', inflight: 0 }); // one timeout is not yet an outage
  });

  it('a stalled origin alone hits the first-token timeout (504), its held role frame never leaks', async () => {
    const pool = poolOf([stalled.url], {
      connect_ms: 2_000,
      first_token_ms: 600,
      total_ms: 20_000,
    });
    const err = await openUpstream(pool.origins, request(pool), new HealthBoard()).catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ status: 504, code: 'upstream_timeout' });
    expect(err.message).toMatch(/did not produce a token within 600 ms/);
  });

  it('connect: an origin that holds its headers until its first token is alive (its /health answers); a hung one is unreachable', async () => {
    const [holding, hung] = await Promise.all([
      startOrigin({ name: 'holding', holdMs: 700 }),
      startOrigin({ name: 'hung', hang: true }),
    ]);
    try {
      const health = new HealthBoard();
      const timeouts = { connect_ms: 300, first_token_ms: 3_000, total_ms: 20_000 };
      const up = await openUpstream(
        [{ url: holding.url, weight: 1 }],
        request(poolOf([holding.url], timeouts)),
        health,
      );
      expect(up.firstTokenMs).toBeGreaterThanOrEqual(700);
      up.close();
      const started = Date.now();
      const err = await openUpstream(
        [{ url: hung.url, weight: 1 }],
        request(poolOf([hung.url], timeouts)),
        health,
      ).catch((e) => e);
      expect(err).toMatchObject({ status: 503, code: 'origin_unavailable' });
      expect(err.message).toMatch(/no \/health answer within 300 ms/);
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(health.snapshot(hung.url).circuit).toBe('open');
    } finally {
      await Promise.all([holding.kill(), hung.kill()]);
    }
  });

  it('an overloaded origin (503 + retry-after) is skipped and remembered; alone it maps to 503 with retry-after', async () => {
    const health = new HealthBoard();
    const pool = poolOf([full.url]);
    const err = await openUpstream(pool.origins, request(pool), health).catch((e) => e);
    expect(err).toMatchObject({ status: 503, code: 'origin_overloaded', retryAfter: 2 });
    expect(health.snapshot(full.url).overloadedUntil).toBeGreaterThan(Date.now() + 1_000);
    expect(health.snapshot(full.url).circuit).toBe('closed');
  });

  it('the client aborting stops the attempts', async () => {
    const pool = poolOf([stalled.url, fast.url], {
      connect_ms: 2_000,
      first_token_ms: 5_000,
      total_ms: 20_000,
    });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 200);
    const err = await openUpstream(
      pool.origins,
      { ...request(pool), signal: abort.signal },
      new HealthBoard(),
    ).catch((e) => e);
    expect(err).toMatchObject({ status: 499 });
    expect((await fast.stats()).requestIds.filter((id) => id === 'req-abort')).toEqual([]);
  });

  it('a request the origin rejects as invalid is not retried elsewhere', async () => {
    const health = new HealthBoard();
    const pool = poolOf([fast.url, fast.url.replace('127.0.0.1', 'localhost')]);
    const before = (await fast.stats()).requests;
    const err = await openUpstream(
      pool.origins,
      request(pool, { messages: 'not a list' }),
      health,
    ).catch((e) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({
      status: 400,
      message: 'messages must be a list',
      clientError: true,
    });
    expect((await fast.stats()).requests).toBe(before + 1);
  });

  it('the same prefix from the same tenant hits the origin cache; another tenant does not', async () => {
    const long = 'You are a storyteller. '.repeat(40);
    const run = async (salt: string) => {
      const pool = poolOf([fast.url]);
      const up = await openUpstream(
        pool.origins,
        { ...request(pool, { messages: [{ role: 'user', content: long }] }), salt },
        new HealthBoard(),
      );
      return (await collect(up, context(true))).usage;
    };
    expect((await run('t1')).prompt_cache_hit_tokens).toBe(0);
    const second = await run('t1');
    expect(second.prompt_cache_hit_tokens).toBe(192);
    expect(second.prompt_tokens_details.cached_tokens).toBe(192);
    expect(second.prompt_cache_miss_tokens).toBe(second.prompt_tokens - 192);
    expect((await run('t2')).prompt_cache_hit_tokens).toBe(0);
  });
});

describe('client-ready streams', () => {
  it('one whose first read ends inside a frame is read, not piped, and still ends with its held finish and usage', async () => {
    const relayHead = {
      key: 'k-0123456789abcdef',
      id: 'chatcmpl-ours',
      model: 'm',
      created: 1,
      system_fingerprint: 'fp_ours',
      include_usage: true,
    };
    const up = await openUpstream(
      [{ url: split.url, weight: 1 }],
      { ...request(poolOf([split.url])), relayHead },
      new HealthBoard(),
    );
    expect(up.heldEnd).toBeDefined(); // the origin wrote a client-ready stream
    expect(up.piped).toBeUndefined(); // that could not be handed over whole
    const settled: { status: RelayStatus; completion: number }[] = [];
    const frames = await text(relay(up, context(true, settled), () => ({ error: 'x' })));
    expect(frames.at(-1)).toBe('data: [DONE]\n\n');
    const parsed = frames.slice(0, -1).map((f) => JSON.parse(f.slice(6)));
    const content = parsed.map((f) => f.choices[0]?.delta?.content ?? '').join('');
    expect(content.startsWith('Once upon')).toBe(true);
    expect(parsed.at(-2).choices[0].finish_reason).toBe('length');
    expect(parsed.at(-1).usage).toMatchObject({ completion_tokens: 8, cost: { total: 3 } });
    expect(settled).toEqual([{ status: 'completed', completion: 8 }]);
  });
});

describe('relay failures', () => {
  it('an origin killed mid-stream ends the client stream with one error frame, billing what was sent', async () => {
    const slow = await startOrigin({ name: 'slow', tokenMs: 40 });
    const pool = poolOf([slow.url]);
    const up = await openUpstream(
      pool.origins,
      request(pool, { max_tokens: 200 }),
      new HealthBoard(),
    );
    const settled: { status: RelayStatus; completion: number }[] = [];
    const frames: string[] = [];
    for await (const chunk of relay(up, context(true, settled), (err) => ({
      error: { message: String(err) },
    }))) {
      frames.push(...chunk.split(/(?<=\n\n)/));
      if (frames.length >= 4) await slow.kill();
    }
    const last = JSON.parse(frames.at(-1)!.slice(6));
    expect(last.error).toBeDefined();
    expect(settled).toHaveLength(1);
    expect(settled[0].status).toBe('failed');
    expect(settled[0].completion).toBeGreaterThanOrEqual(3);
  });

  it('the total timeout ends a stream that runs too long', async () => {
    const slow = await startOrigin({ name: 'slow2', tokenMs: 50 });
    try {
      const pool = poolOf([slow.url], { connect_ms: 2_000, first_token_ms: 2_000, total_ms: 400 });
      const up = await openUpstream(
        pool.origins,
        request(pool, { max_tokens: 100 }),
        new HealthBoard(),
      );
      const frames = await text(
        relay(up, context(true), (err) => ({ error: { message: (err as Error).message } })),
      );
      expect(JSON.parse(frames.at(-1)!.slice(6)).error.message).toMatch(
        /did not finish within 400 ms/,
      );
    } finally {
      await slow.kill();
    }
  });
});

describe('usage and SSE parsing', () => {
  it('maps vLLM/SGLang cached_tokens and keeps DeepSeek fields when present', () => {
    expect(
      normalizeUsage({
        prompt_tokens: 100,
        completion_tokens: 5,
        prompt_tokens_details: { cached_tokens: 64 },
      }),
    ).toMatchObject({
      prompt_tokens: 100,
      completion_tokens: 5,
      total_tokens: 105,
      prompt_cache_hit_tokens: 64,
      prompt_cache_miss_tokens: 36,
      prompt_tokens_details: { cached_tokens: 64 },
    });
    expect(
      normalizeUsage({
        prompt_tokens: 10,
        completion_tokens: 1,
        prompt_cache_hit_tokens: 8,
        prompt_cache_miss_tokens: 2,
      }).prompt_tokens_details.cached_tokens,
    ).toBe(8);
    expect(
      normalizeUsage({ prompt_tokens: 10, completion_tokens: 1, prompt_tokens_details: null })
        .prompt_cache_hit_tokens,
    ).toBe(0);
    expect(
      normalizeUsage({ prompt_tokens: 10, prompt_tokens_details: { cached_tokens: 99 } })
        .prompt_cache_hit_tokens,
    ).toBe(10);
  });

  it('reassembles events split anywhere across reads, with CRLF, comments and multi-line data', async () => {
    const wire =
      ': keep-alive\r\n\r\ndata: {"a":1}\r\n\r\ndata: line1\ndata: line2\n\nevent: x\ndata: [DONE]\n\ndata: tail';
    const bytes = new TextEncoder().encode(wire);
    for (const size of [1, 3, 7, bytes.length]) {
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < bytes.length; i += size) c.enqueue(bytes.slice(i, i + size));
          c.close();
        },
      });
      const sse = new SseReader(stream.getReader());
      const events: string[] = [];
      for (let e = await sse.next(); e !== null; e = await sse.next()) events.push(e);
      expect(events).toEqual(['{"a":1}', 'line1\nline2', '[DONE]', 'tail']);
    }
  });
});
