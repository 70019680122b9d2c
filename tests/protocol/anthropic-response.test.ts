// Chat answers and chunks → Anthropic messages and events (protocol/anthropic/from-chat.ts,
// stream.ts), errors and headers; pure. The official SDK reads the events we build, so its own
// accumulator (tool input from partial_json, thinking with its signature) checks the stream.
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { anthropicErrorBody, apiErrorOf } from '../../protocol/anthropic/errors';
import { toAnthropicMessage, type ChatAnswer } from '../../protocol/anthropic/from-chat';
import { anthropicRateLimitHeaders, durationMs } from '../../protocol/anthropic/headers';
import { anthropicMessageOut, streamEvent } from '../../protocol/anthropic/responses';
import { AnthropicStream, eventFrame, type ChatChunk } from '../../protocol/anthropic/stream';
import { ApiError } from '../../protocol/errors';
import { makeUsage } from '../../protocol/usage';

const usage = { ...makeUsage(100, 7, 64) };
const answer = (message: ChatAnswer['choices'][0]['message'], finish: string): ChatAnswer => ({
  id: 'chatcmpl-r1',
  model: 'deepseek-chat',
  choices: [{ message, finish_reason: finish }],
  usage,
});

describe('chat answer → Anthropic message', () => {
  it('reasoning, text and tool calls become thinking, text and tool_use blocks', () => {
    const message = toAnthropicMessage(
      answer(
        {
          content: 'Let me check.',
          reasoning_content: 'The user wants weather.',
          tool_calls: [
            { id: 'call_1', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          ],
        },
        'tool_calls',
      ),
      { requestId: 'r1', cacheCreation: 0 },
    );
    expect(anthropicMessageOut.parse(message)).toEqual(message);
    expect(message).toMatchObject({
      id: 'msg_r1',
      model: 'deepseek-chat',
      stop_reason: 'tool_use',
      stop_sequence: null,
      content: [
        { type: 'thinking', thinking: 'The user wants weather.' },
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: 'toolu_call_1', name: 'get_weather', input: { city: 'Paris' } },
      ],
      // Anthropic's parts of the 100-token prompt: 64 read from the cache, 36 the rest.
      usage: {
        input_tokens: 36,
        output_tokens: 7,
        cache_read_input_tokens: 64,
        cache_creation_input_tokens: 0,
      },
    });
  });

  it('stop reasons: length → max_tokens, stop → end_turn, a reported stop string → stop_sequence', () => {
    const of = (finish: string, extra = {}) =>
      toAnthropicMessage(
        {
          ...answer({ content: 'x' }, finish),
          choices: [{ message: { content: 'x' }, finish_reason: finish, ...extra }],
        },
        { requestId: 'r', stops: ['END'], cacheCreation: 64 },
      );
    expect(of('length').stop_reason).toBe('max_tokens');
    expect(of('stop').stop_reason).toBe('end_turn');
    expect(of('stop', { stop_reason: 'END' })).toMatchObject({
      stop_reason: 'stop_sequence',
      stop_sequence: 'END',
    });
    // 100 prompt tokens: 64 read, 64 more would be stored but only 36 are left to store.
    expect(of('stop').usage).toMatchObject({
      input_tokens: 0,
      cache_read_input_tokens: 64,
      cache_creation_input_tokens: 36,
    });
  });

  it('a tool call whose arguments are not an object is our 500, not a wrong input', () => {
    expect(() =>
      toAnthropicMessage(
        answer(
          { content: null, tool_calls: [{ id: 'c', function: { name: 'f', arguments: '[1]' } }] },
          'tool_calls',
        ),
        { requestId: 'r', cacheCreation: 0 },
      ),
    ).toThrow(/not a JSON object/);
  });
});

/** OpenAI chunks of a reasoning, text and two tool calls, as the chat route streams them. */
const chunks: ChatChunk[] = [
  { choices: [{ delta: { content: '' } }] },
  { choices: [{ delta: { reasoning_content: 'Think' } }] },
  { choices: [{ delta: { reasoning_content: 'ing.' } }] },
  { choices: [{ delta: { content: 'Sure.' } }] },
  {
    choices: [
      {
        delta: {
          tool_calls: [
            { index: 0, id: 'call_a', function: { name: 'get_weather', arguments: '' } },
          ],
        },
      },
    ],
  },
  { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] } }] },
  { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] } }] },
  {
    choices: [
      {
        delta: {
          tool_calls: [{ index: 1, id: 'call_b', function: { name: 'get_time', arguments: '{}' } }],
        },
      },
    ],
  },
  { choices: [{ delta: {}, finish_reason: 'tool_calls' }] },
  { choices: [], usage },
];

function events() {
  const s = new AnthropicStream({
    requestId: 'r2',
    model: 'deepseek-reasoner',
    promptTokens: 100,
    cacheRead: 64,
    cacheCreation: 0,
  });
  return [...s.start(), ...chunks.flatMap((c) => s.chunk(c)), ...s.end()];
}

describe('chat chunks → Anthropic stream events', () => {
  it('one block at a time, indexed in order; thinking closes with its signature', () => {
    const all = events();
    for (const e of all) expect(streamEvent.parse(e)).toEqual(e);
    const shape = all.map((e) =>
      e.type === 'content_block_delta'
        ? `${e.index}:${e.delta.type}`
        : 'index' in e
          ? `${e.index}:${e.type}`
          : e.type,
    );
    expect(shape).toEqual([
      'message_start',
      'ping',
      '0:content_block_start',
      '0:thinking_delta',
      '0:thinking_delta',
      '0:signature_delta',
      '0:content_block_stop',
      '1:content_block_start',
      '1:text_delta',
      '1:content_block_stop',
      '2:content_block_start',
      '2:input_json_delta',
      '2:input_json_delta',
      '2:content_block_stop',
      '3:content_block_start',
      '3:input_json_delta',
      '3:content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(all.at(-2)).toMatchObject({
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { input_tokens: 36, output_tokens: 7, cache_read_input_tokens: 64 },
    });
  });

  it('the official SDK accumulates our events into the message the JSON route would answer', async () => {
    const body = events().map(eventFrame).join('');
    const client = new Anthropic({
      apiKey: 'k',
      maxRetries: 0,
      fetch: async () =>
        new Response(body, {
          headers: { 'content-type': 'text/event-stream', 'request-id': 'r2' },
        }),
    });
    const final = await client.messages
      .stream({ model: 'claude-opus-4', max_tokens: 9, messages: [{ role: 'user', content: 'x' }] })
      .finalMessage();
    expect(final.content).toMatchObject([
      { type: 'thinking', thinking: 'Thinking.', signature: 'ds-reasoning:r2' },
      { type: 'text', text: 'Sure.' },
      { type: 'tool_use', id: 'toolu_call_a', name: 'get_weather', input: { city: 'Paris' } },
      { type: 'tool_use', id: 'toolu_call_b', name: 'get_time', input: {} },
    ]);
    expect(final.stop_reason).toBe('tool_use');
    expect(final.usage).toMatchObject({
      input_tokens: 36,
      output_tokens: 7,
      cache_read_input_tokens: 64,
    });
  });

  it('an error frame mid-stream is Anthropic’s error event', () => {
    const body = anthropicErrorBody(
      apiErrorOf(500, {
        error: { message: 'kaput', type: 'server_error', param: null, code: null },
      }),
      'r3',
    );
    expect(streamEvent.parse(body)).toEqual({
      type: 'error',
      error: { type: 'api_error', message: 'kaput' },
      request_id: 'r3',
    });
  });
});

describe('errors and headers in Anthropic’s names', () => {
  it('statuses map to Anthropic error types; an unknown model is DeepSeek’s 400', () => {
    const type = (status: number) =>
      anthropicErrorBody(new ApiError(status, 'x', 'server_error')).error.type;
    expect([400, 401, 402, 403, 404, 413, 429, 500, 503].map(type)).toEqual([
      'invalid_request_error',
      'authentication_error',
      'billing_error',
      'permission_error',
      'not_found_error',
      'request_too_large',
      'rate_limit_error',
      'api_error',
      'overloaded_error',
    ]);
    const notFound = apiErrorOf(404, {
      error: {
        message: "The model 'x' does not exist",
        type: 'invalid_request_error',
        param: 'model',
        code: 'model_not_found',
      },
    });
    expect(notFound.status).toBe(400);
    expect(apiErrorOf(502, 'not json').status).toBe(502);
  });

  it('rate-limit headers: durations become RFC 3339 reset times', () => {
    expect(durationMs('20ms')).toBe(20);
    expect(durationMs('1.5s')).toBe(1500);
    expect(durationMs('6m0s')).toBe(360_000);
    expect(durationMs('soon')).toBeNull();
    const ours = new Headers({
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '59',
      'x-ratelimit-reset-requests': '1s',
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '900',
      'x-ratelimit-reset-tokens': '6m0s',
    });
    expect(anthropicRateLimitHeaders(ours, Date.UTC(2026, 0, 1))).toEqual({
      'anthropic-ratelimit-requests-limit': '60',
      'anthropic-ratelimit-requests-remaining': '59',
      'anthropic-ratelimit-requests-reset': '2026-01-01T00:00:01Z',
      'anthropic-ratelimit-tokens-limit': '1000',
      'anthropic-ratelimit-tokens-remaining': '900',
      'anthropic-ratelimit-tokens-reset': '2026-01-01T00:06:00Z',
    });
  });
});
