// Our origin's streams piped to the client unread (dispatch/relay-piped.ts, origin/server/relay-ends.ts),
// against the same streams read frame by frame (an idempotency key keeps the relay reading: a replay
// needs the text): the same text, finish, usage and cost; our id and model in every chunk; a client
// that leaves pays for what the origin generated; an origin that dies mid-stream ends it with an
// error frame and a failed ledger row. A real origin process of its own (f).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { settledRow } from '../billing/requests';
import { call, ledgerOf, provisionKey } from '../billing/setup';
import { origin, readStream } from './helpers';

const tenant = await provisionKey();

beforeAll(async () => {
  await origin('start', 'f');
});
afterAll(async () => {
  await origin('kill', 'f');
});

const body = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    model: 'pool-f',
    messages: [{ role: 'user', content: 'Once upon a time, in a quiet town' }],
    max_tokens: 40,
    temperature: 0,
    ignore_eos: true,
    stream: true,
    ...extra,
  });

const stream = (key: string, extra: Record<string, unknown> = {}, headers = {}) =>
  call('/v1/chat/completions', { method: 'POST', key, body: body(extra), headers });

const clientReady = async () => (await origin('stats', 'f')).clientReady ?? 0;

/** The stream's frames without what differs between two requests (id, created). */
const shape = (frames: Record<string, any>[]) =>
  frames.map(({ id: _id, created: _created, ...f }) => {
    if (f.usage?.timing) f.usage = { ...f.usage, timing: 'measured' };
    return f;
  });

describe('a stream from our origin, piped unread', () => {
  it('is what the reading relay sends: text, finish, usage chunk with the cost; our id and model throughout', async () => {
    const before = await clientReady();
    const res = await stream(tenant.key, { stream_options: { include_usage: true } });
    expect(res.status).toBe(200);
    const piped = await readStream(res);
    expect(await clientReady()).toBe(before + 1);

    const read = await readStream(
      await stream(
        tenant.key,
        { stream_options: { include_usage: true } },
        { 'idempotency-key': crypto.randomUUID() },
      ),
    );
    expect(await clientReady()).toBe(before + 1); // the reading relay asked for an ordinary stream

    expect(piped.done).toBe(true);
    expect(piped.error).toBeNull();
    expect(piped.text.length).toBeGreaterThan(0);
    expect(piped.text).toBe(read.text);
    const id = piped.frames[0].id as string;
    for (const f of piped.frames) {
      expect(f.id).toBe(id);
      expect(f.model).toBe('pool-f');
    }
    // Content chunks may be cut differently (the origin coalesces writes); the end is frame for frame.
    expect(shape(piped.frames.slice(-2))).toEqual(shape(read.frames.slice(-2)));
    const usage = piped.frames.at(-1)!.usage;
    expect(usage).toMatchObject({ completion_tokens: 40 });
    expect(usage.cost).toBeDefined();
    for (const f of piped.frames.slice(0, -1)) expect(f.usage).toBeNull();
  });

  it('without include_usage: no usage chunk; the finish frame carries the usage and cost, as read', async () => {
    const piped = await readStream(await stream(tenant.key));
    const read = await readStream(
      await stream(tenant.key, {}, { 'idempotency-key': crypto.randomUUID() }),
    );
    expect(piped.done).toBe(true);
    const finish = piped.frames.at(-1)!;
    expect(finish.choices[0].finish_reason).toBe('length');
    expect(finish.usage).toMatchObject({ completion_tokens: 40 });
    expect(finish.usage.cost).toBeDefined();
    for (const f of piped.frames.slice(0, -1)) expect('usage' in f).toBe(false);
    expect(shape(piped.frames.slice(-1))).toEqual(shape(read.frames.slice(-1)));
  });

  it("a reasoning model's stream is piped too: the origin's reasoning_content, counted, as its JSON answer says", async () => {
    const before = await clientReady();
    const messages = [{ role: 'user', content: 'Why is the sky blue?' }];
    const request = { model: 'pool-f-think', messages, max_tokens: 24, temperature: 0 };
    const s = await readStream(
      await call('/v1/chat/completions', {
        method: 'POST',
        key: tenant.key,
        body: JSON.stringify({ ...request, stream: true, stream_options: { include_usage: true } }),
      }),
    );
    expect(await clientReady()).toBe(before + 1);
    const deltas = s.frames.filter((f) => f.choices?.length).map((f) => f.choices[0].delta);
    const reasoning = deltas.map((d) => d.reasoning_content ?? '').join('');
    const content = deltas.map((d) => d.content ?? '').join('');
    const json = (await (
      await call('/v1/chat/completions', {
        method: 'POST',
        key: tenant.key,
        body: JSON.stringify(request),
      })
    ).json()) as Record<string, any>;
    expect(reasoning.length).toBeGreaterThan(0);
    expect(reasoning).toBe(json.choices[0].message.reasoning_content);
    expect(content).toBe(json.choices[0].message.content ?? '');
    expect(content).not.toContain('<think>');
    const usage = s.frames.at(-1)!.usage;
    expect(usage.completion_tokens_details.reasoning_tokens).toBeGreaterThan(0);
    expect(usage.completion_tokens_details).toEqual(json.usage.completion_tokens_details);
  });

  it("completions' echo with logprobs through the relay: the origin scores the prompt, JSON and streamed alike", async () => {
    const prompt = 'Once upon a time, in a quiet town';
    const ask = {
      model: 'pool-f',
      prompt,
      echo: true,
      logprobs: 2,
      max_tokens: 3,
      temperature: 0,
      ignore_eos: true,
    };
    const post = (extra: object) =>
      call('/v1/completions', {
        method: 'POST',
        key: tenant.key,
        body: JSON.stringify({ ...ask, ...extra }),
      });
    const res = await post({});
    expect(res.status).toBe(200);
    const lp = ((await res.json()) as Record<string, any>).choices[0].logprobs;
    const echoed = lp.tokens.length - 3;
    expect(lp.tokens.slice(0, echoed).join('')).toBe(prompt);
    expect(lp.token_logprobs.slice(0, echoed).every((x: number) => x <= 0)).toBe(true);
    const s = await readStream(await post({ stream: true }));
    const streamed = s.frames.flatMap((f) => f.choices?.[0]?.logprobs?.token_logprobs ?? []);
    expect(streamed).toEqual(lp.token_logprobs);
  });

  it('a client that leaves mid-stream pays for the prompt and what the origin generated, no more', async () => {
    const k = await provisionKey();
    const res = await stream(k.key, { max_tokens: 1500 });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while ((text.match(/"content":"[^"]/g) ?? []).length < 3)
      text += decoder.decode((await reader.read()).value, { stream: true });
    await reader.cancel();
    const [first] = await ledgerOf(k.keyId);
    const row = await settledRow(first.id);
    expect(row.status).toBe('disconnected');
    expect(row.prompt_tokens).toBeGreaterThan(0);
    expect(row.completion_tokens).toBeGreaterThanOrEqual(3);
    expect(row.completion_tokens).toBeLessThan(1500);
    expect(row.cost_nanos).toBeGreaterThan(0);
  });

  it('an origin that dies mid-stream: an error frame ends the stream, the ledger says failed', async () => {
    const k = await provisionKey();
    const res = await stream(k.key, { max_tokens: 1500 });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('"content":"'))
      text += decoder.decode((await reader.read()).value, { stream: true });
    await origin('kill', 'f');
    for (let r = await reader.read(); !r.done; r = await reader.read())
      text += decoder.decode(r.value, { stream: true });
    const last = text.trim().split('\n\n').at(-1)!;
    expect(last.startsWith('data: {"error"')).toBe(true);
    expect(text).not.toContain('[DONE]');
    const [first] = await ledgerOf(k.keyId);
    expect((await settledRow(first.id)).status).toBe('failed');
    await origin('start', 'f');
  });
});
