// Dispatch inside workerd against real origin processes on loopback ports (the project's origin
// server on a synthetic model, started and killed by the ORIGINS service in Node): the registry in
// /v1/models, relay through the Worker, prefix affinity, losing one origin mid-run, losing all of
// them (edge fallback), a stalled origin (the mini origin: it sends a role frame, then nothing).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prices } from '../../../billing/prices';
import { call, ledgerOf, provisionKey } from '../billing/setup';
import { chat, origin, readStream, seedTinyEdge } from './helpers';

const tenant = await provisionKey();
const key = tenant.key;
const ORIGINS = ['a', 'b', 'c', 'd', 'stall'];

beforeAll(async () => {
  await seedTinyEdge();
  await Promise.all(ORIGINS.map((n) => origin('start', n)));
});
afterAll(async () => {
  await Promise.all(ORIGINS.map((n) => origin('kill', n)));
});

describe('registry', () => {
  it('GET /v1/models lists origin models with placement, prices and fallbacks, beside the edge models', async () => {
    const res = await call('/v1/models', { key });
    const { data } = (await res.json()) as { data: Record<string, any>[] };
    const byId = Object.fromEntries(data.map((m) => [m.id, m]));
    const origin = prices.file.defaults.origin;
    expect(byId['pool-ab']).toMatchObject({
      object: 'model',
      placement: 'origin',
      owned_by: 'edge-inference',
      description: 'two origins, no fallback',
    });
    expect(byId['pool-ab'].pricing).toEqual({
      currency: 'USD',
      per: '1M tokens',
      input_cache_hit: String(origin.input_cache_hit / 1e6),
      input_cache_miss: String(origin.input_cache_miss / 1e6),
      output: String(origin.output / 1e6),
    });
    expect(byId['pool-cd']).toMatchObject({
      placement: 'origin',
      context_length: 2048,
      fallbacks: ['tiny-edge'],
    });
    expect(byId['tiny-edge']).toMatchObject({
      placement: 'edge',
      pricing: { input_cache_miss: String(prices.file.defaults.edge.input_cache_miss / 1e6) },
    });
    const one = await call('/v1/models/pool-cd', { key });
    expect(((await one.json()) as { fallbacks: string[] }).fallbacks).toEqual(['tiny-edge']);
  });
});

describe('relay through the Worker', () => {
  it('JSON: the origin answers; headers say who, how fast, what hit; usage is billed at the model price', async () => {
    const res = await chat(key, 'pool-ab', 'Hello there', {}, undefined);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'pool-ab',
      choices: [{ message: { role: 'assistant' } }],
    });
    expect(body.id).toBe(`chatcmpl-${res.headers.get('x-request-id')}`);
    expect(body.choices[0].message.content.length).toBeGreaterThan(0);
    expect(res.headers.get('x-served-by')).toMatch(/^origin:origin-[ab]$/);
    expect(res.headers.get('x-served-model')).toBe('pool-ab');
    expect(Number(res.headers.get('x-upstream-first-token-ms'))).toBeGreaterThanOrEqual(0);
    expect(Number(res.headers.get('x-upstream-latency-ms'))).toBeGreaterThanOrEqual(
      Number(res.headers.get('x-upstream-first-token-ms')),
    );
    expect(res.headers.get('x-cache-hit-tokens')).toBe('0');
    expect(body.usage).toMatchObject({
      prompt_cache_hit_tokens: 0,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    expect(body.usage.completion_tokens).toBe(
      body.choices[0].finish_reason === 'length' ? 8 : body.usage.completion_tokens,
    );
    expect(body.usage.cost.total).toBeGreaterThan(0);
    expect(res.headers.get('x-cost-total-nanos')).toBe(String(body.usage.cost.total));
    const row = (await ledgerOf(tenant.keyId)).find(
      (r) => r.request_id === res.headers.get('x-request-id'),
    )!;
    expect(row).toMatchObject({
      model: 'pool-ab',
      status: 'completed',
      prompt_tokens: body.usage.prompt_tokens,
      completion_tokens: body.usage.completion_tokens,
      cost_nanos: body.usage.cost.total,
    });
  });

  it('a stream is relayed frame by frame with our id and model, usage and cost at the end', async () => {
    const request = { max_tokens: 12 };
    const whole = (await (await chat(key, 'pool-ab', 'Tell me a story', request)).json()) as Record<
      string,
      any
    >;
    const res = await chat(key, 'pool-ab', 'Tell me a story', {
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const s = await readStream(res);
    expect(s.done).toBe(true);
    expect(s.error).toBeNull();
    expect(
      s.frames.every(
        (f) => f.model === 'pool-ab' && f.id === `chatcmpl-${res.headers.get('x-request-id')}`,
      ),
    ).toBe(true);
    expect(s.frames[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(s.text).toBe(whole.choices[0].message.content); // greedy: the relay changes no text
    expect(s.frames.length).toBeGreaterThan(3); // frame by frame, not one blob
    expect(s.frames.at(-1)).toMatchObject({
      choices: [],
      usage: { completion_tokens: whole.usage.completion_tokens },
    });
    expect(s.frames.at(-1)!.usage.cost.total).toBeGreaterThan(0);
  });

  it('legacy completions go through the origin too', async () => {
    const res = await call('/v1/completions', {
      method: 'POST',
      key,
      body: JSON.stringify({ model: 'pool-ab', prompt: 'Lily', max_tokens: 5, temperature: 0 }),
    });
    const body = (await res.json()) as Record<string, any>;
    expect(body).toMatchObject({ object: 'text_completion', model: 'pool-ab' });
    const stream = await readStream(
      await call('/v1/completions', {
        method: 'POST',
        key,
        body: JSON.stringify({
          model: 'pool-ab',
          prompt: 'Lily',
          max_tokens: 5,
          temperature: 0,
          stream: true,
        }),
      }),
    );
    expect(stream.done).toBe(true);
    expect(stream.text).toBe(body.choices[0].text);
    expect(stream.frames.at(-1)!.usage.cost.total).toBeGreaterThan(0); // no usage chunk asked for: the finish frame carries the cost
  });
});

describe('billing an origin answer', () => {
  it('an idempotent retry is answered from the first result and billed once', async () => {
    const headers = { 'idempotency-key': `idem-${crypto.randomUUID()}` };
    const send = () =>
      call('/v1/chat/completions', {
        method: 'POST',
        key,
        headers,
        body: JSON.stringify({
          model: 'pool-ab',
          messages: [{ role: 'user', content: 'Once more' }],
          max_tokens: 6,
          temperature: 0,
        }),
      });
    const first = await send();
    const a = (await first.json()) as Record<string, any>;
    const again = await send();
    const b = (await again.json()) as Record<string, any>;
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(b.choices[0].message.content).toBe(a.choices[0].message.content);
    expect(b.usage).toEqual(a.usage);
    expect(b).toEqual(a); // id and created too: the same answer
    const rows = (await ledgerOf(tenant.keyId)).filter(
      (r) => r.idempotency_key === headers['idempotency-key'],
    );
    expect(rows).toHaveLength(1);
  });

  it('an idempotent retry of a stream is replayed as the same stream (chat with a usage chunk, completions with the cost on the finish frame)', async () => {
    const cases = [
      {
        path: '/v1/chat/completions',
        body: {
          model: 'pool-ab',
          messages: [{ role: 'user', content: 'Replay me' }],
          stream_options: { include_usage: true },
        },
      },
      { path: '/v1/completions', body: { model: 'pool-ab', prompt: 'Replay me too' } },
    ];
    for (const { path, body } of cases) {
      const headers = { 'idempotency-key': `idem-${crypto.randomUUID()}` };
      const send = () =>
        call(path, {
          method: 'POST',
          key,
          headers,
          body: JSON.stringify({ ...body, max_tokens: 6, temperature: 0, stream: true }),
        });
      const first = await send();
      const a = await readStream(first);
      const again = await send();
      expect(again.headers.get('content-type')).toContain('text/event-stream');
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      const b = await readStream(again);
      expect(b.done).toBe(true);
      expect(b.text).toBe(a.text);
      expect(a.text.length).toBeGreaterThan(0);
      const object = path === '/v1/completions' ? 'text_completion' : 'chat.completion.chunk';
      // The replay is the first answer again: its id, as the edge's replays (Stripe's idempotency).
      const id = `${object === 'text_completion' ? 'cmpl' : 'chatcmpl'}-${first.headers.get('x-request-id')}`;
      expect(again.headers.get('original-request')).toBe(first.headers.get('x-request-id'));
      for (const f of b.frames) expect(f).toMatchObject({ id, model: 'pool-ab', object });
      const finish = (s: typeof a) => s.frames.findLast((f) => f.choices?.length)!;
      expect(finish(b).choices[0].finish_reason).toBe(finish(a).choices[0].finish_reason);
      // The usage with its cost ends both streams: in its own chunk, or on the finish frame.
      const usage = (s: typeof a) => s.frames.findLast((f) => f.usage)!.usage;
      expect(usage(b)).toEqual(usage(a));
      expect(usage(b).cost.total).toBeGreaterThan(0);
      if ('stream_options' in body) {
        expect(b.frames.at(-1)!.choices).toEqual([]);
        expect(b.frames.slice(0, -1).every((f) => f.usage === null)).toBe(true);
      } else expect(finish(b).usage).toEqual(usage(a));
    }
  });

  it('a client that leaves mid-stream stops the origin and pays only for what it was sent', async () => {
    const res = await chat(key, 'pool-ab', 'A very long story', {
      stream: true,
      max_tokens: 1500,
      ignore_eos: true,
    });
    const requestId = res.headers.get('x-request-id')!;
    const name = res.headers.get('x-served-by')!.slice(-1);
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    let row;
    for (let i = 0; i < 100 && row?.status !== 'disconnected'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      row = (await ledgerOf(tenant.keyId)).find((r) => r.request_id === requestId);
    }
    expect(row).toMatchObject({ status: 'disconnected', model: 'pool-ab' });
    expect(row!.completion_tokens).toBeLessThan(1500);
    let active = 1;
    for (let i = 0; i < 100 && active > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      active = (await origin('stats', name)).inflight;
    }
    expect(active).toBe(0);
  });
});

describe('the prefix-cache namespace', () => {
  it("a client's cache_salt never reaches an origin: the tenant's own salt replaces it", async () => {
    const res = await chat(key, 'pool-stall', 'Salted', { cache_salt: 'another-tenant' });
    await res.body?.cancel();
    const stats = await origin('stats', 'stall');
    const body = stats.bodies.at(-1) as Record<string, unknown>;
    expect(body.messages).toEqual([{ role: 'user', content: 'Salted' }]);
    expect(body.cache_salt).not.toBe('another-tenant');
    expect(body.cache_salt).toBe(stats.salts.at(-1));
    expect(stats.salts.at(-1)).toMatch(/\S/);
  });
});

describe('an abandoned JSON request to an origin', () => {
  it('ends the upstream request, stops the origin, and pays only for what the origin produced', async () => {
    const own = await provisionKey();
    const abort = new AbortController();
    const pending = chat(
      own.key,
      'pool-ab',
      'An abandoned story',
      { max_tokens: 1600, ignore_eos: true },
      abort.signal,
    ).catch((e: Error) => e);
    const busy = async () =>
      (await Promise.all(['a', 'b'].map((n) => origin('stats', n)))).find((s) => s.inflight > 0);
    for (let i = 0; i < 200 && !(await busy()); i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 150));
    abort.abort();
    expect(await pending).toBeInstanceOf(Error);
    let row;
    for (let i = 0; i < 200 && (!row || row.status === 'pending'); i++) {
      await new Promise((r) => setTimeout(r, 50));
      [row] = await ledgerOf(own.keyId);
    }
    expect(row).toMatchObject({ status: 'disconnected', model: 'pool-ab' });
    expect(row!.completion_tokens).toBeGreaterThan(0);
    expect(row!.completion_tokens).toBeLessThan(1600);
    expect(row!.cost_nanos).toBeGreaterThan(0);
    for (let i = 0; i < 100 && (await busy()); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await busy()).toBeUndefined();
  });
});

describe('prefix affinity', () => {
  it('the same prefix lands on the same origin and its cache hits rise; different prefixes use both origins', async () => {
    const system = 'You are a careful assistant who answers in rhyme. '.repeat(20); // > 512 characters: the affinity key
    const served: string[] = [];
    const hits: number[] = [];
    const before = {
      a: (await origin('stats', 'a')).cacheHitTokens,
      b: (await origin('stats', 'b')).cacheHitTokens,
    };
    for (let i = 0; i < 5; i++) {
      const res = await chat(key, 'pool-ab', `${system}\nQuestion ${i}: why is the sky blue?`);
      const body = (await res.json()) as Record<string, any>;
      served.push(res.headers.get('x-served-by')!);
      hits.push(body.usage.prompt_cache_hit_tokens);
    }
    expect(new Set(served).size).toBe(1);
    expect(hits[0]).toBe(0);
    // the origin's whole 64-token blocks of the shared prefix (1,000 characters: ~200 DeepSeek-V3 tokens)
    for (const h of hits.slice(1)) expect(h).toBeGreaterThanOrEqual(192);
    const owner = served[0].slice(-1) as 'a' | 'b';
    const other = owner === 'a' ? 'b' : 'a';
    const [ownerStats, otherStats] = await Promise.all([
      origin('stats', owner),
      origin('stats', other),
    ]);
    expect(ownerStats.cacheHitTokens - before[owner]).toBe(hits.reduce((x, y) => x + y));
    expect(otherStats.cacheHitTokens).toBe(before[other]);

    // Another tenant's identical prompt goes to the same origin but never hits this tenant's blocks.
    const stranger = await provisionKey();
    const theirs = await chat(
      stranger.key,
      'pool-ab',
      `${system}\nQuestion 0: why is the sky blue?`,
    );
    expect(theirs.headers.get('x-served-by')).toBe(served[0]);
    expect(((await theirs.json()) as Record<string, any>).usage.prompt_cache_hit_tokens).toBe(0);

    const spread = new Set<string>();
    for (let i = 0; i < 16; i++)
      spread.add(
        (await chat(key, 'pool-ab', `Prefix number ${i} `.repeat(40))).headers.get('x-served-by')!,
      );
    expect(spread).toEqual(new Set(['origin:origin-a', 'origin:origin-b']));
  });
});

interface Run {
  servedBy: string | null;
  headersAt: number;
  ok: boolean;
  status: number;
  stream: boolean;
  error?: string;
}

async function run(
  content: string,
  stream: boolean,
  onHeaders: (servedBy: string | null) => void = () => {},
): Promise<Run> {
  const res = await chat(key, 'pool-ab', content, {
    max_tokens: 40,
    ...(stream ? { stream: true } : {}),
  });
  const headersAt = Date.now();
  const servedBy = res.headers.get('x-served-by');
  onHeaders(servedBy);
  if (!stream) {
    const body = (await res.json()) as Record<string, any>;
    return {
      servedBy,
      headersAt,
      ok: res.status === 200,
      status: res.status,
      stream,
      ...(body.error ? { error: body.error.message } : {}),
    };
  }
  const s = await readStream(res);
  return {
    servedBy,
    headersAt,
    ok: res.status === 200 && s.done && !s.error,
    status: res.status,
    stream,
    ...(s.error ? { error: s.error.message } : {}),
  };
}

describe('losing origins', () => {
  it('killing one origin mid-run shifts traffic: no request fails unless it had started streaming from it', async () => {
    // Origin a dies as soon as a stream from it is flowing.
    // killedAt: the kill was asked for; deadAt: the fixture says a is gone. Only a stream whose
    // headers came before deadAt may break (a fixed window after killedAt failed under load).
    let killedAt = Infinity;
    let deadAt = Infinity;
    let kill: Promise<unknown> = Promise.resolve();
    const killOnA = (servedBy: string | null) => {
      if (servedBy !== 'origin:origin-a' || killedAt !== Infinity) return;
      killedAt = Date.now();
      kill = origin('kill', 'a').then(() => (deadAt = Date.now()));
    };
    const first = Array.from({ length: 16 }, (_, i) =>
      run(`Wave one, request ${i}. `.repeat(8), i % 4 !== 0, killOnA),
    );
    await Promise.race([Promise.all(first), new Promise((r) => setTimeout(r, 400))]);
    await kill;
    const second = Array.from({ length: 8 }, (_, i) =>
      run(`Wave two, request ${i}. `.repeat(8), i % 2 === 0),
    );
    const runs = await Promise.all([...first, ...second]);

    expect(runs.map((r) => r.servedBy)).toContain('origin:origin-a'); // a had traffic to lose
    expect(killedAt).toBeLessThan(Infinity);
    for (const r of runs) {
      if (r.ok) continue;
      // Only a stream already flowing from the killed origin may break.
      expect(r).toMatchObject({ stream: true, status: 200, servedBy: 'origin:origin-a' });
      expect(r.headersAt).toBeLessThanOrEqual(deadAt);
    }
    for (const r of runs.filter((r) => r.headersAt > deadAt))
      expect(r).toMatchObject({ ok: true, servedBy: 'origin:origin-b' });
    for (const r of runs.filter((r) => !r.stream))
      expect(r).toMatchObject({ ok: true, status: 200 }); // JSON answers are retried whole
    // Afterwards every prefix goes to b.
    for (let i = 0; i < 4; i++)
      expect((await chat(key, 'pool-ab', `After ${i}`)).headers.get('x-served-by')).toBe(
        'origin:origin-b',
      );
    await origin('start', 'a');
  });

  it('killing every origin makes a fallback-enabled model answer from the edge, named and billed as the edge model', async () => {
    // No max_tokens: the registry's max_output_tokens (64) is sent and reserved.
    const before = await call('/v1/chat/completions', {
      method: 'POST',
      key,
      body: JSON.stringify({
        model: 'pool-cd',
        messages: [{ role: 'user', content: 'Before' }],
        ignore_eos: true,
      }),
    });
    expect(before.headers.get('x-served-by')).toMatch(/^origin:origin-[cd]$/);
    expect(((await before.json()) as Record<string, any>).usage.completion_tokens).toBe(64);
    await Promise.all([origin('kill', 'c'), origin('kill', 'd')]);
    for (const stream of [false, true, false]) {
      const res = await chat(key, 'pool-cd', 'Once upon a time', stream ? { stream: true } : {});
      expect(res.status).toBe(200);
      expect(res.headers.get('x-served-by')).toBe('edge:tiny-edge');
      expect(res.headers.get('x-served-model')).toBe('tiny-edge');
      expect(res.headers.get('x-fallback-from')).toBe('pool-cd');
      const requestId = res.headers.get('x-request-id');
      if (stream) {
        const s = await readStream(res);
        expect(s.done).toBe(true);
        expect(s.frames.every((f) => f.model === 'tiny-edge')).toBe(true);
      } else {
        const body = (await res.json()) as Record<string, any>;
        expect(body.model).toBe('tiny-edge');
        const row = (await ledgerOf(tenant.keyId)).find(
          (r) => r.request_id === requestId && r.status === 'completed',
        )!;
        const price = prices.priceAt('tiny-edge', 'edge', new Date());
        const expected =
          Math.round((body.usage.prompt_tokens * price.perToken.miss) / 1000) +
          Math.round((body.usage.completion_tokens * price.perToken.output) / 1000);
        expect(row).toMatchObject({
          model: 'tiny-edge',
          served_by: 'edge:tiny-edge',
          cost_nanos: expected,
        });
        expect(body.usage.cost.total).toBe(expected);
      }
    }
    // A request admitted for the origin model before its origins were known dead cost nothing.
    const failed = (await ledgerOf(tenant.keyId)).filter(
      (r) => r.model === 'pool-cd' && r.status === 'failed',
    );
    expect(failed.every((r) => r.cost_nanos === 0)).toBe(true);
  });

  it('without a fallback, a model whose origins are all down answers 503 with retry-after', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await chat(key, 'pool-nowhere', 'hello');
      expect(res.status).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const body = (await res.json()) as { error: Record<string, unknown> };
      expect(body.error).toMatchObject({ type: 'service_unavailable', param: null });
      expect(['origin_unavailable', 'model_unavailable']).toContain(body.error.code);
    }
  });
});

describe('a stalled origin', () => {
  it('hits the first-token timeout: 504, and nothing of its held frames reaches the client', async () => {
    const started = Date.now();
    const res = await chat(key, 'pool-stall', 'hello', { stream: true });
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
    const body = (await res.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ code: 'upstream_timeout', type: 'server_error' });
    expect(body.error.message).toMatch(/did not produce a token within 800 ms/);
  });

  it('with fallbacks, the next model in the list answers (a dead origin pool, then the edge)', async () => {
    const res = await chat(key, 'pool-stall-fb', 'hello');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-served-model')).toBe('tiny-edge');
    expect(res.headers.get('x-fallback-from')).toBe('pool-stall-fb');
    expect(((await res.json()) as { model: string }).model).toBe('tiny-edge');
    // One meter, re-admitted per model: each origin pool admitted settled free, the edge billed.
    const rows = (await ledgerOf(tenant.keyId)).filter(
      (r) => r.request_id === res.headers.get('x-request-id'),
    );
    const failed = rows.filter((r) => r.status === 'failed');
    expect(failed.map((r) => r.model)).toContain('pool-stall-fb');
    expect(failed.every((r) => r.model !== 'tiny-edge' && r.cost_nanos === 0)).toBe(true);
    expect(rows.filter((r) => r.status !== 'failed')).toMatchObject([
      { model: 'tiny-edge', status: 'completed' },
    ]);
    expect(rows.find((r) => r.status === 'completed')!.cost_nanos).toBeGreaterThan(0);
  });
});
