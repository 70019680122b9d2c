// Streams: chunks parsed from SSE, an error frame after the first byte thrown as an APIError,
// never a retry once the stream has started, and abort/break cancelling the body.
import { describe, expect, it } from 'vitest';
import * as sdk from '../../sdk/index';
import { apiError, chunk, client, endlessSSE, frames, scriptedFetch, sseResponse } from './helpers';

const streamBody = {
  model: 'tiny',
  messages: [{ role: 'user' as const, content: 'hi' }],
  stream: true as const,
};

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

describe('streaming', () => {
  it('yields each chunk until [DONE], whatever the chunking, and ignores what follows', async () => {
    const text =
      frames(
        chunk('Once'),
        chunk(' upon'),
        { ...chunk(''), choices: [], usage: { total_tokens: 3 } },
        '[DONE]',
      ) + 'data: {"late":1}\n\n';
    for (const cuts of [
      [],
      [5],
      [17, 40, 41, 100],
      Array.from({ length: 60 }, (_, i) => i * 3 + 1),
    ]) {
      const { fetch } = scriptedFetch(() => sseResponse(text, { cuts }));
      const stream = await client(fetch).chat.completions.create(streamBody);
      const got = await collect(stream);
      expect(
        got.map((c) => c.choices[0]?.delta.content ?? `usage:${c.usage?.total_tokens}`),
      ).toEqual(['Once', ' upon', 'usage:3']);
    }
  });

  it('asks for SSE, and exposes the request id and where it ran', async () => {
    const { fetch, calls } = scriptedFetch(() => sseResponse(frames(chunk('x'), '[DONE]')));
    const stream = await client(fetch).chat.completions.create(streamBody);
    expect(calls[0].headers.get('accept')).toBe('text/event-stream');
    expect([stream.requestId, stream.servedBy]).toEqual(['req-s', 'edge:tiny']);
    await collect(stream);
  });

  it('works for legacy completions too', async () => {
    const frame = {
      id: 'cmpl-1',
      object: 'text_completion',
      created: 1,
      model: 'tiny',
      system_fingerprint: 'fp',
      choices: [{ index: 0, text: 'abc', logprobs: null, finish_reason: null }],
    };
    const { fetch } = scriptedFetch(() => sseResponse(frames(frame, '[DONE]')));
    const stream = await client(fetch).completions.create({
      model: 'tiny',
      prompt: 'x',
      stream: true,
    });
    expect((await collect(stream)).map((c) => c.choices[0].text)).toEqual(['abc']);
  });

  it('an error frame after the first chunk throws an APIError with its fields', async () => {
    const error = {
      error: {
        message: 'The engine failed.',
        type: 'server_error',
        param: null,
        code: 'internal_error',
      },
    };
    const { fetch, calls } = scriptedFetch(() => sseResponse(frames(chunk('Once'), error)));
    const stream = await client(fetch).chat.completions.create(streamBody);
    const seen: string[] = [];
    const err = await (async () => {
      for await (const c of stream) seen.push(c.choices[0].delta.content!);
    })().catch((e) => e);
    expect(seen).toEqual(['Once']);
    expect(err).toBeInstanceOf(sdk.APIError);
    expect(err).toMatchObject({
      status: undefined,
      type: 'server_error',
      code: 'internal_error',
      message: 'The engine failed.',
      requestId: 'req-s',
    });
    expect(calls).toHaveLength(1);
  });

  it('an `event: error` frame throws too', async () => {
    const { fetch } = scriptedFetch(() =>
      sseResponse(
        `event: error\ndata: {"error":{"message":"overloaded","type":"service_unavailable"}}\n\n`,
      ),
    );
    const stream = await client(fetch).chat.completions.create(streamBody);
    await expect(collect(stream)).rejects.toMatchObject({
      type: 'service_unavailable',
      message: 'overloaded',
    });
  });

  it('is never retried once it has started, even when the connection drops', async () => {
    const { fetch, calls } = scriptedFetch(() =>
      sseResponse(frames(chunk('Once')), { failAfter: new TypeError('connection reset') }),
    );
    const stream = await client(fetch, { maxRetries: 5 }).chat.completions.create(streamBody);
    const seen: unknown[] = [];
    const err = await (async () => {
      for await (const c of stream) seen.push(c);
    })().catch((e) => e);
    expect(seen).toHaveLength(1);
    expect(err).toBeInstanceOf(TypeError);
    expect(calls).toHaveLength(1);
  });

  it('is retried before it starts (an error status instead of a stream)', async () => {
    const { fetch, calls } = scriptedFetch(
      apiError(503, 'service_unavailable', null, { 'retry-after-ms': '1' }),
      () => sseResponse(frames(chunk('ok'), '[DONE]')),
    );
    const stream = await client(fetch).chat.completions.create(streamBody);
    expect(await collect(stream)).toHaveLength(1);
    expect(calls).toHaveLength(2);
  });

  it('abort() ends the iteration quietly and cancels the body', async () => {
    const { response, state } = endlessSSE(chunk('tok'));
    const { fetch } = scriptedFetch(() => response);
    const stream = await client(fetch).chat.completions.create(streamBody);
    let n = 0;
    for await (const _ of stream) if (++n === 3) stream.abort();
    expect(n).toBe(3);
    await new Promise((r) => setTimeout(r, 5));
    expect(state.cancelled).toBe(true);
  });

  it("the caller's signal aborts a running stream", async () => {
    const { response, state } = endlessSSE(chunk('tok'));
    const controller = new AbortController();
    const stream = await client(scriptedFetch(() => response).fetch).chat.completions.create(
      streamBody,
      { signal: controller.signal },
    );
    let n = 0;
    for await (const _ of stream) if (++n === 2) controller.abort();
    expect(n).toBe(2);
    expect(state.cancelled).toBe(true);
  });

  it('leaving a for-await early cancels the body', async () => {
    const { response, state } = endlessSSE(chunk('tok'));
    const stream = await client(scriptedFetch(() => response).fetch).chat.completions.create(
      streamBody,
    );
    for await (const _ of stream) break;
    expect(state.cancelled).toBe(true);
  });

  it('can be read once, or as a ReadableStream of JSON lines', async () => {
    const { fetch } = scriptedFetch(() => sseResponse(frames(chunk('a'), chunk('b'), '[DONE]')));
    const stream = await client(fetch).chat.completions.create(streamBody);
    const text = await new Response(stream.toReadableStream()).text();
    expect(
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).choices[0].delta.content),
    ).toEqual(['a', 'b']);
    expect(() => stream[Symbol.asyncIterator]()).toThrow(/consumed/);
  });
});
