// The official `openai` package, unchanged but for base URL, key and fetch: JSON and streamed chat
// (with include_usage), usage in both shapes, and our errors arriving as its error classes.
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { golden } from '../seed';
import { BASE_URL, MODEL, prepare, reason, workerFetch } from './setup';

describe.skipIf(reason !== null)('official openai client', () => {
  let client: OpenAI;
  beforeAll(async () => {
    client = new OpenAI({
      baseURL: BASE_URL,
      apiKey: await prepare(),
      fetch: workerFetch,
      maxRetries: 0,
    });
  });

  it('chat: text, finish reason, usage in OpenAI and DeepSeek shapes, request id', async () => {
    const { data, response, request_id } = await client.chat.completions
      .create({
        model: MODEL,
        messages: [{ role: 'user', content: 'Once upon a time' }],
        max_tokens: 12,
        temperature: 0,
      })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0].message.role).toBe('assistant');
    expect(data.choices[0].message.content!.length).toBeGreaterThan(5);
    expect(data.choices[0].finish_reason).toBe('length');
    const usage = data.usage! as OpenAI.CompletionUsage & {
      prompt_cache_hit_tokens: number;
      prompt_cache_miss_tokens: number;
    };
    expect(usage.completion_tokens).toBe(12);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + 12);
    expect(usage.prompt_tokens_details?.cached_tokens).toBe(usage.prompt_cache_hit_tokens);
    expect(usage.prompt_cache_hit_tokens + usage.prompt_cache_miss_tokens).toBe(
      usage.prompt_tokens,
    );
    expect(request_id).toBe(response.headers.get('x-request-id'));
    expect(request_id).toMatch(/\S+/);
  });

  it('streaming with include_usage: deltas add up to the JSON answer, one usage chunk at the end', async () => {
    const request = {
      model: MODEL,
      messages: [{ role: 'user' as const, content: 'The cat' }],
      max_tokens: 20,
      temperature: 0,
    };
    const whole = await client.chat.completions.create(request);
    const stream = await client.chat.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({
      prompt_tokens: whole.usage!.prompt_tokens,
      completion_tokens: whole.usage!.completion_tokens,
    });
    expect(chunks.slice(0, -1).every((c) => c.usage == null && c.choices.length === 1)).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(
      whole.choices[0].message.content,
    );
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    // one fingerprint for the model: the JSON answer's, on every chunk
    expect(whole.system_fingerprint).toMatch(/^fp_[0-9a-f]{10}$/);
    expect(new Set(chunks.map((c) => c.system_fingerprint))).toEqual(
      new Set([whole.system_fingerprint]),
    );
  });

  it('top_p 0 keeps only the most likely token: the text of temperature 0, at any temperature', async () => {
    const request = {
      model: MODEL,
      messages: [{ role: 'user' as const, content: 'Once upon a time' }],
      max_tokens: 24,
    };
    const greedy = await client.chat.completions.create({ ...request, temperature: 0 });
    for (const seed of [1, 2]) {
      const nucleus = await client.chat.completions.create({
        ...request,
        temperature: 1.5,
        top_p: 0,
        seed,
      });
      expect(nucleus.choices[0].message.content).toBe(greedy.choices[0].message.content);
    }
  });

  it("completions take the prompt as token ids, alone or in an array of one: the text prompt's answer", async () => {
    const { prompt, prompt_token_ids: ids } = (await golden()).cases[1];
    const ask = { model: MODEL, max_tokens: 12, temperature: 0 };
    const byText = await client.completions.create({ ...ask, prompt });
    for (const form of [ids, [ids]]) {
      const byIds = await client.completions.create({ ...ask, prompt: form, echo: true });
      expect(byIds.choices[0].text).toBe(prompt + byText.choices[0].text);
      expect(byIds.usage!.prompt_tokens).toBe(ids.length);
      expect(byIds.usage!.prompt_tokens).toBe(byText.usage!.prompt_tokens);
    }
    const outside = await client.completions
      .create({ ...ask, prompt: [1, 512] })
      .catch((e: unknown) => e);
    expect(outside).toMatchObject({ status: 400, param: 'prompt' });
    expect((outside as Error).message).toMatch(/token 512 is outside the model's vocabulary/);
    const two = await client.completions
      .create({ ...ask, prompt: [ids, ids] })
      .catch((e: unknown) => e);
    expect(two).toMatchObject({ status: 400, param: 'prompt' });
  });

  it('echo with logprobs scores the prompt too: its tokens spell the echo, each as the model rates it', async () => {
    const ids = [1, 403, 407, 261, 378]; // BOS "Once upon a time"
    const ask = { model: MODEL, max_tokens: 4, temperature: 0, logprobs: 2 };
    const r = await client.completions.create({ ...ask, prompt: ids, echo: true });
    const lp = r.choices[0].logprobs!;
    const plain = await client.completions.create({ ...ask, prompt: ids });
    // BOS is no text and gets no entry; the tokens spell the answer's text, echo included
    expect(lp.tokens!.join('')).toBe(r.choices[0].text);
    expect(r.choices[0].text).toBe('Once upon a time' + plain.choices[0].text);
    expect(lp.tokens!.length).toBe(4 + 4);
    expect(lp.text_offset).toEqual(
      lp.tokens!.map((_, i) => lp.tokens!.slice(0, i).join('').length),
    );
    // the completion's part is the request's without echo
    expect(lp.token_logprobs!.slice(4)).toEqual(plain.choices[0].logprobs!.token_logprobs);
    // a prompt token's entry is the model's distribution after the tokens before it: what a
    // completion of that shorter prompt reports for its first token
    for (const n of [2, 4]) {
      const shorter = await client.completions.create({
        ...ask,
        prompt: ids.slice(0, n),
        max_tokens: 1,
      });
      const next = shorter.choices[0].logprobs!;
      const entry = n - 1; // entries start after BOS
      if (next.tokens![0] === lp.tokens![entry])
        expect(lp.token_logprobs![entry]).toBeCloseTo(next.token_logprobs![0], 4);
      const top = lp.top_logprobs![entry]!;
      for (const [token, logprob] of Object.entries(next.top_logprobs![0]))
        expect(top[token]).toBeCloseTo(logprob, 4);
    }
    // a prompt with nothing before its first token: that one's logprob is null (OpenAI's)
    const bare = await client.completions.create({ ...ask, prompt: ids.slice(1), echo: true });
    expect(bare.choices[0].logprobs!.token_logprobs![0]).toBeNull();
    expect(bare.choices[0].logprobs!.top_logprobs![0]).toBeNull();
    expect(bare.choices[0].logprobs!.token_logprobs![1]).toEqual(expect.any(Number));
    // streamed: the echo chunk carries the prompt's entries
    const stream = await client.completions.create({
      ...ask,
      prompt: ids,
      echo: true,
      stream: true,
    });
    let first: OpenAI.Completions.Completion | undefined;
    for await (const chunk of stream) first ??= chunk;
    expect(first!.choices[0].text).toBe('Once upon a time');
    expect(first!.choices[0].logprobs!.tokens).toEqual(lp.tokens!.slice(0, 4));
    expect(first!.choices[0].logprobs!.token_logprobs).toEqual(lp.token_logprobs!.slice(0, 4));
  });

  it('a streamed request can be aborted by the client', async () => {
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Once' }],
      max_tokens: 200,
      temperature: 0,
      stream: true,
    });
    let n = 0;
    for await (const _ of stream) if (++n === 3) stream.controller.abort();
    expect(n).toBe(3);
  });

  it('errors become its error classes, with status, code, param and request id', async () => {
    const notFound = await client.chat.completions
      .create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e) => e);
    expect(notFound).toBeInstanceOf(OpenAI.NotFoundError);
    expect(notFound).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
    expect(notFound.requestID).toMatch(/\S+/);

    const bad = await client.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], top_p: 1.5 })
      .catch((e) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect(bad).toMatchObject({ status: 400, param: 'top_p', type: 'invalid_request_error' });

    const stranger = new OpenAI({
      baseURL: BASE_URL,
      apiKey: 'sk-not-a-key',
      fetch: workerFetch,
      maxRetries: 0,
    });
    const unauthorized = await stranger.models.list().catch((e) => e);
    expect(unauthorized).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(unauthorized.code).toBe('invalid_api_key');

    // The openai package has no class for 402; it is an APIError with DeepSeek's status and type.
    const broke = new OpenAI({
      baseURL: BASE_URL,
      apiKey: await prepare('0'),
      fetch: workerFetch,
      maxRetries: 0,
    });
    const unpaid = await broke.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 })
      .catch((e) => e);
    expect(unpaid).toBeInstanceOf(OpenAI.APIError);
    expect(unpaid).toMatchObject({ status: 402, type: 'insufficient_balance' });

    const legacy = await client.completions
      .create({ model: MODEL, prompt: 'x'.repeat(5000), max_tokens: 4 })
      .catch((e) => e);
    expect(legacy).toBeInstanceOf(OpenAI.BadRequestError);
    expect(legacy.code).toBe('context_length_exceeded');
  });

  it('lists and retrieves models', async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toContain(MODEL);
    expect((await client.models.retrieve(MODEL)).id).toBe(MODEL);
  });
});
