// What the relay keeps of our own origin's answers (a real origin process of its own, e): `n` choices, `echo`
// billed as the origin counted it, a request with no max_tokens on a pool that sets none (the
// origin's default fits its context), the origin's error code and param, and tool calls (the origin
// decodes them under their grammar) as JSON and SSE, and the latency the Worker measured of it
// (Server-Timing, usage.timing, the ledger).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Usage } from '../../../protocol/usage';
import { call, provisionKey } from '../billing/setup';
import { expectConsistent, ledgerTiming, serverTimings } from '../billing/timing';
import { chat, origin, readStream } from './helpers';

const tenant = await provisionKey();
const key = tenant.key;

beforeAll(async () => {
  await origin('start', 'e');
});
afterAll(async () => {
  await origin('kill', 'e');
});

const completion = (body: Record<string, unknown>) =>
  call('/v1/completions', {
    method: 'POST',
    key,
    body: JSON.stringify({ model: 'pool-e', temperature: 0, ...body }),
  });

describe('relay of our origin', () => {
  it('n = 2 as JSON: two choices, the prompt billed once', async () => {
    const sampling = { temperature: 0.9, seed: 5, max_tokens: 6, ignore_eos: true };
    const res = await chat(key, 'pool-e', 'A tale of two cities', { ...sampling, n: 2 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    expect(body.choices.map((c: any) => c.index)).toEqual([0, 1]);
    const one = (await (
      await chat(key, 'pool-e', 'A tale of two cities', sampling)
    ).json()) as Record<string, any>;
    expect(body.choices[0].message.content).toBe(one.choices[0].message.content);
    expect(body.usage).toMatchObject({
      prompt_tokens: one.usage.prompt_tokens,
      completion_tokens: 12,
    });
  });

  it('n = 2 as SSE: a finish frame for each choice', async () => {
    const res = await chat(key, 'pool-e', 'A tale of two cities', {
      temperature: 0.9,
      seed: 5,
      max_tokens: 6,
      ignore_eos: true,
      n: 2,
      stream: true,
    });
    const s = await readStream(res);
    const finishes = s.frames
      .filter((f) => f.choices?.[0]?.finish_reason)
      .map((f) => f.choices[0].index);
    expect(finishes.sort()).toEqual([0, 1]);
    expect(s.frames.at(-1)!.usage.completion_tokens).toBe(12);
  });

  it('one system_fingerprint for the pool: in the JSON answer and in every chunk, for both endpoints', async () => {
    const ask = { max_tokens: 4, ignore_eos: true, stream_options: { include_usage: true } };
    const json = (await (await chat(key, 'pool-e', 'A print', ask)).json()) as Record<string, any>;
    expect(json.system_fingerprint).toMatch(/^fp_[0-9a-f]{10}$/);
    const streamed = await readStream(
      await chat(key, 'pool-e', 'A print', { ...ask, stream: true }),
    );
    expect(streamed.frames.length).toBeGreaterThan(2);
    expect(new Set(streamed.frames.map((f) => f.system_fingerprint))).toEqual(
      new Set([json.system_fingerprint]),
    );
    const text = await readStream(await completion({ prompt: 'A print', ...ask, stream: true }));
    expect(new Set(text.frames.map((f) => f.system_fingerprint))).toEqual(
      new Set([json.system_fingerprint]),
    );
  });

  it('a prompt of token ids reaches the origin as ids', async () => {
    const res = await completion({ prompt: [[5, 6, 7]], max_tokens: 3, ignore_eos: true });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    expect(body.usage).toMatchObject({ prompt_tokens: 3, completion_tokens: 3 });
  });

  it('echo is billed as the tokens generated, not one more (JSON and SSE)', async () => {
    const body = { prompt: 'Once upon a time', echo: true, max_tokens: 5, ignore_eos: true };
    const res = await completion(body);
    const json = (await res.json()) as Record<string, any>;
    expect(json.choices[0].text.startsWith('Once upon a time')).toBe(true);
    expect(json.usage.completion_tokens).toBe(5);
    const s = await readStream(
      await completion({ ...body, stream: true, stream_options: { include_usage: true } }),
    );
    expect(s.frames.at(-1)!.usage.completion_tokens).toBe(5);
  });

  it('no max_tokens on a pool without max_output_tokens: the origin picks a default that fits', async () => {
    const res = await call('/v1/chat/completions', {
      method: 'POST',
      key,
      body: JSON.stringify({
        model: 'pool-default',
        messages: [{ role: 'user', content: 'Hi' }],
        temperature: 0,
        stream: true,
      }),
    });
    expect(res.status).toBe(200);
    const s = await readStream(res);
    expect(s.done).toBe(true);
  });

  it('tool calls from our origin pass through: JSON message.tool_calls and SSE deltas', async () => {
    const tools = [
      {
        type: 'function',
        function: {
          name: 'pick',
          parameters: { type: 'object', properties: { s: { enum: ['x', 'y'] } }, required: ['s'] },
        },
      },
    ];
    const extra = {
      tools,
      tool_choice: { type: 'function', function: { name: 'pick' } },
      max_tokens: 200,
    };
    const res = await chat(key, 'pool-e', 'pick one', extra);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    const choice = body.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toHaveLength(1);
    expect(choice.message.tool_calls[0]).toMatchObject({
      type: 'function',
      function: { name: 'pick' },
    });
    expect(['x', 'y']).toContain(JSON.parse(choice.message.tool_calls[0].function.arguments).s);
    const s = await readStream(await chat(key, 'pool-e', 'pick one', { ...extra, stream: true }));
    expect(s.done).toBe(true);
    const deltas = s.frames.flatMap((f) => f.choices?.[0]?.delta?.tool_calls ?? []);
    expect(deltas[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'pick' } });
    const args = deltas.map((d: any) => d.function.arguments ?? '').join('');
    // greedy both times: the streamed call is the JSON one
    expect(args).toBe(choice.message.tool_calls[0].function.arguments);
    const finish = s.frames.find((f) => f.choices?.[0]?.finish_reason);
    expect(finish!.choices[0].finish_reason).toBe('tool_calls');
  });

  it("the origin's context_length_exceeded keeps its code and param", async () => {
    const res = await chat(key, 'pool-default', 'Hi', { max_tokens: 100_000 });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: Record<string, unknown> };
    expect(error).toMatchObject({ code: 'context_length_exceeded', param: 'max_tokens' });
  });
});

describe("latency of an origin's answer, as the Worker measured it", () => {
  it('JSON: Server-Timing ttft and decode, equal to usage.timing and the ledger; ttft covers the wait for the origin', async () => {
    const res = await chat(key, 'pool-e', 'Time me', { max_tokens: 12, ignore_eos: true });
    expect(res.status).toBe(200);
    const { usage } = (await res.json()) as { usage: Usage };
    const timing = usage.timing!;
    expectConsistent(timing, usage.completion_tokens);
    const st = serverTimings(res.headers.get('server-timing') ?? '');
    expect([...st.keys()]).toEqual(['ttft', 'decode']);
    expect(st.get('ttft')!.dur).toBe(timing.ttft_ms);
    expect(st.get('decode')!.dur).toBe(timing.decode_ms);
    // From the request's arrival, so at least the origin's own wait for its first token.
    expect(timing.ttft_ms!).toBeGreaterThanOrEqual(
      Number(res.headers.get('x-upstream-first-token-ms')) - 1,
    );
    expect(await ledgerTiming(res.headers.get('x-request-id')!)).toMatchObject({
      ttft_ms: timing.ttft_ms,
      decode_tps: timing.decode_tokens_per_second,
    });
  });

  it("SSE: the last chunk's usage carries the timing (usage chunk or finish frame); the ledger agrees", async () => {
    for (const includeUsage of [true, false]) {
      const res = await chat(key, 'pool-e', 'Time my stream', {
        max_tokens: 12,
        ignore_eos: true,
        stream: true,
        ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
      });
      const s = await readStream(res);
      expect(s.done).toBe(true);
      const last = s.frames.at(-1)!;
      expect(last.choices.length === 0).toBe(includeUsage);
      expect(s.frames.slice(0, -1).every((f) => !f.usage)).toBe(true);
      const usage = last.usage as Usage;
      expectConsistent(usage.timing!, usage.completion_tokens);
      expect(usage.completion_tokens).toBe(12);
      expect(await ledgerTiming(res.headers.get('x-request-id')!)).toMatchObject({
        ttft_ms: usage.timing!.ttft_ms,
        decode_tps: usage.timing!.decode_tokens_per_second,
      });
    }
  });
});
