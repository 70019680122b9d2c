// The official `@anthropic-ai/sdk`, unchanged but for base URL, key and fetch, against the Worker's
// /anthropic routes: messages.create and messages.stream, count_tokens, the typed errors, and the
// same conversation through the OpenAI chat route giving the same tokens and the same bill.
import Anthropic from '@anthropic-ai/sdk';
import { beforeAll, describe, expect, it } from 'vitest';
import { anthropicMessageOut, streamEvent } from '../../../protocol/anthropic/responses';
import { rowsOf, settledRow } from '../billing/requests';
import { provisionKey } from '../billing/setup';
import { LONG_PROMPT, saltOf, waitForKeys } from '../prompt-cache/helpers';
import { BASE_URL, MODEL, prepare, reason, workerFetch } from './setup';

export const ANTHROPIC_URL = BASE_URL.replace(/\/v1$/, '/anthropic');

/** Greedy decoding: this SDK's types no longer list temperature, but the API (ours, DeepSeek's) takes it. */
const GREEDY = { temperature: 0 } as object;

/** The prompt's tokens: Anthropic splits them into the uncached rest, cache reads and cache writes. */
const promptOf = (u: {
  input_tokens: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}) =>
  (u.input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0);

const client = (apiKey: string) =>
  new Anthropic({ baseURL: ANTHROPIC_URL, apiKey, fetch: workerFetch, maxRetries: 0 });

describe.skipIf(reason !== null)('official @anthropic-ai/sdk', () => {
  let key: string;
  let anthropic: Anthropic;
  beforeAll(async () => {
    key = await prepare();
    anthropic = client(key);
  });

  it('messages.create: a text block, stop reason, usage with the cost, msg_ id and request-id', async () => {
    const { data, response, request_id } = await anthropic.messages
      .create({
        model: MODEL,
        max_tokens: 12,
        ...GREEDY,
        system: 'You tell stories.',
        messages: [{ role: 'user', content: 'Once upon a time' }],
      })
      .withResponse();
    expect(anthropicMessageOut.parse(data)).toBeTruthy();
    expect(data.content).toHaveLength(1);
    expect(data.content[0].type).toBe('text');
    expect((data.content[0] as Anthropic.TextBlock).text.length).toBeGreaterThan(5);
    expect(data.stop_reason).toBe('max_tokens');
    expect(data.usage.output_tokens).toBe(12);
    expect(data.usage.input_tokens).toBeGreaterThan(5);
    expect((data.usage as unknown as { cost: { total: number } }).cost.total).toBeGreaterThan(0);
    expect(request_id).toBe(response.headers.get('x-request-id'));
    expect(data.id).toBe(`msg_${request_id}`);
    expect(response.headers.get('anthropic-ratelimit-requests-limit')).toBe('10000');
    expect(response.headers.get('anthropic-ratelimit-tokens-reset')).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('10000');
  });

  it('x-api-key and Authorization: Bearer both authenticate (Claude Code sends the latter)', async () => {
    const bearer = new Anthropic({
      baseURL: ANTHROPIC_URL,
      authToken: key,
      apiKey: null,
      fetch: workerFetch,
      maxRetries: 0,
    });
    const message = await bearer.messages.create({
      model: MODEL,
      max_tokens: 3,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
    });
    expect(message.usage.output_tokens).toBeGreaterThan(0);
  });

  it('messages.stream: Anthropic events in order; text and usage equal the JSON answer', async () => {
    const request = {
      model: MODEL,
      max_tokens: 20,
      ...GREEDY,
      messages: [{ role: 'user' as const, content: 'The cat' }],
    };
    const whole = await anthropic.messages.create(request);
    const stream = anthropic.messages.stream(request);
    const types: string[] = [];
    let text = '';
    for await (const event of stream) {
      expect(streamEvent.parse(event)).toBeTruthy();
      types.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta')
        text += event.delta.text;
      if (event.type === 'message_start')
        expect(promptOf(event.message.usage)).toBe(promptOf(whole.usage));
    }
    const final = await stream.finalMessage();
    expect(types[0]).toBe('message_start');
    expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
    expect(types).toContain('content_block_start');
    expect(types.at(-3)).toBe('content_block_stop');
    expect(text).toBe((whole.content[0] as Anthropic.TextBlock).text);
    expect(final.content).toEqual(whole.content);
    expect(final.stop_reason).toBe(whole.stop_reason);
    expect(promptOf(final.usage)).toBe(promptOf(whole.usage));
    expect(final.usage.output_tokens).toBe(whole.usage.output_tokens);
  });

  it('a stream aborted by the client stops decoding and pays for what was produced', async () => {
    const t = await provisionKey();
    const stream = client(t.key).messages.stream({
      model: MODEL,
      max_tokens: 200,
      messages: [{ role: 'user', content: 'Once' }],
    });
    let n = 0;
    const ended = await (async () => {
      for await (const _ of stream) if (++n === 4) stream.abort();
    })().catch((e) => e);
    expect(ended).toBeInstanceOf(Anthropic.APIUserAbortError);
    const [row] = await rowsOf(t.keyId);
    const settled = await settledRow(row.id);
    expect(settled.status).toBe('disconnected');
    expect(settled.completion_tokens).toBeLessThan(200);
  });

  it('the wire: each event is `event: <type>` + `data: {type: <type>}`', async () => {
    const res = await workerFetch(`${ANTHROPIC_URL}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        max_tokens: 4,
        stream: true,
        messages: [{ role: 'user', content: 'A' }],
      }),
    });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const frames = (await res.text()).trim().split('\n\n');
    for (const frame of frames) {
      const [event, data] = frame.split('\n');
      expect(event).toMatch(/^event: [a-z_]+$/);
      expect(JSON.parse(data.replace(/^data: /, '')).type).toBe(event.slice(7));
    }
    expect(frames.at(-1)).toMatch(/^event: message_stop/);
  });

  it('messages.countTokens: the same prompt count as a generation of it', async () => {
    const params = {
      model: MODEL,
      system: [{ type: 'text' as const, text: 'Be brief.' }],
      messages: [
        { role: 'user' as const, content: 'Hello there' },
        { role: 'assistant' as const, content: 'Hi!' },
        { role: 'user' as const, content: 'Tell me a story' },
      ],
    };
    const counted = await anthropic.messages.countTokens(params);
    const made = await anthropic.messages.create({ ...params, max_tokens: 2 });
    expect(counted.input_tokens).toBe(promptOf(made.usage));
  });

  it('one conversation through both formats: the same tokens and the same bill', async () => {
    const system = 'You are a storyteller.';
    const turns = [
      { role: 'user' as const, content: 'Once upon a time' },
      { role: 'assistant' as const, content: 'there was a cat.' },
      { role: 'user' as const, content: 'What happened next?' },
    ];
    const message = await anthropic.messages.create({
      model: MODEL,
      max_tokens: 16,
      ...GREEDY,
      system,
      messages: turns,
    });
    const res = await workerFetch(`${BASE_URL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        max_tokens: 16,
        ...GREEDY,
        messages: [{ role: 'system', content: system }, ...turns],
      }),
    });
    const chat = await res.json<{
      choices: { message: { content: string } }[];
      usage: { prompt_tokens: number; completion_tokens: number; cost: { total: number } };
    }>();
    expect((message.content[0] as Anthropic.TextBlock).text).toBe(chat.choices[0].message.content);
    expect(promptOf(message.usage)).toBe(chat.usage.prompt_tokens);
    expect(message.usage.output_tokens).toBe(chat.usage.completion_tokens);
    const cost = (message.usage as unknown as { cost: { total: number } }).cost;
    expect(cost.total).toBe(chat.usage.cost.total);
  });

  it('prompt-cache counts: a cold prompt writes its whole blocks, the same prompt again reads them', async () => {
    const t = await provisionKey();
    const own = client(t.key);
    const request = {
      model: MODEL,
      max_tokens: 4,
      ...GREEDY,
      messages: [{ role: 'user' as const, content: LONG_PROMPT }],
    };
    const cold = await own.messages.create(request);
    const prompt = promptOf(cold.usage);
    expect(prompt).toBeGreaterThan(128);
    expect(prompt).toBeLessThan(192);
    expect(cold.usage).toMatchObject({
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 128,
      input_tokens: prompt - 128,
    });
    await waitForKeys(await saltOf(t.accountId), 2);
    const warm = own.messages.stream(request);
    let started: Anthropic.Usage | undefined;
    for await (const e of warm) if (e.type === 'message_start') started = e.message.usage;
    const expected = { cache_read_input_tokens: 128, cache_creation_input_tokens: 0 };
    expect(started).toMatchObject({ ...expected, input_tokens: prompt - 128 });
    expect((await warm.finalMessage()).usage).toMatchObject({
      ...expected,
      input_tokens: prompt - 128,
    });
  });

  it('errors are its typed classes with Anthropic bodies; bad input is a 4xx, never a 500', async () => {
    const stranger = await client('sk-not-a-key')
      .messages.create({ model: MODEL, max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e) => e);
    expect(stranger).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(stranger.error).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error' },
    });

    const bad = async (body: Record<string, unknown>) =>
      (await anthropic.messages
        .create({ model: MODEL, max_tokens: 2, ...body } as never)
        .then(() => new Error('accepted'))
        .catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    const unknownModel = await bad({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(unknownModel).toBeInstanceOf(Anthropic.BadRequestError);
    expect(unknownModel.message).toMatch(/gpt-4o/);
    const image = await bad({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AA==' } },
          ],
        },
      ],
    });
    expect(image).toBeInstanceOf(Anthropic.BadRequestError);
    expect(image.message).toMatch(/'image' blocks are not supported/);
    const orphan = await bad({
      messages: [
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_x', content: '42' }] },
      ],
    });
    expect(orphan).toBeInstanceOf(Anthropic.BadRequestError);
    expect(orphan.message).toMatch(/no matching tool_use/);
    const unknownBlock = await bad({
      messages: [{ role: 'user', content: [{ type: 'hologram' }] }],
    });
    expect(unknownBlock).toBeInstanceOf(Anthropic.BadRequestError);
    expect(unknownBlock.message).toMatch(/unknown content block type/);
    const noMax = await bad({ max_tokens: undefined, messages: [{ role: 'user', content: 'hi' }] });
    expect(noMax).toBeInstanceOf(Anthropic.BadRequestError);
    expect(noMax.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });

    const missing = await workerFetch(`${ANTHROPIC_URL}/v1/nothing`, {
      method: 'POST',
      headers: { 'x-api-key': key },
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({
      type: 'error',
      error: { type: 'not_found_error' },
    });
    const wrongMethod = await workerFetch(`${ANTHROPIC_URL}/v1/messages`, {
      headers: { 'x-api-key': key },
    });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect(await wrongMethod.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error' },
    });
  });

  it('429 is a RateLimitError with retry-after; 402 is a billing_error', async () => {
    const limited = client((await provisionKey({ limits: { rpm: 1 } })).key);
    const ask = () =>
      limited.messages
        .create({ model: MODEL, max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] })
        .catch((e) => e);
    await ask();
    const err = await ask();
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(err.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(err.headers.get('anthropic-ratelimit-requests-remaining')).toBe('0');

    const broke = client(await prepare('0'));
    const unpaid = await broke.messages
      .create({ model: MODEL, max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e) => e);
    expect(unpaid).toBeInstanceOf(Anthropic.APIError);
    expect(unpaid.status).toBe(402);
    expect(unpaid.error).toMatchObject({ error: { type: 'billing_error' } });
  });
});
