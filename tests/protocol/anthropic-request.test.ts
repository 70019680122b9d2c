// The Anthropic → chat translation on its own (protocol/anthropic/to-chat.ts, models.ts): pure
// functions, no engine. What the chat route then does with tools is the shared pipeline's concern.
import { describe, expect, it } from 'vitest';
import { mapModel } from '../../protocol/anthropic/models';
import { messagesRequest, type MessagesRequest } from '../../protocol/anthropic/requests';
import { toChatRequest } from '../../protocol/anthropic/to-chat';
import { ApiError } from '../../protocol/errors';
import { chatCompletionRequest } from '../../protocol/requests';

const parse = (body: Record<string, unknown>): MessagesRequest =>
  messagesRequest.parse({ model: 'm', max_tokens: 8, ...body });

const weather = {
  name: 'get_weather',
  description: 'Weather of a city',
  input_schema: {
    type: 'object',
    properties: { city: { type: 'string' } },
    required: ['city'],
  },
};

/** The 400 a translation throws, as { message, param }. */
function refusal(body: Record<string, unknown>): { message: string; param: string | null } {
  try {
    toChatRequest(parse(body), 'm');
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(400);
    return { message: (err as ApiError).message, param: (err as ApiError).param };
  }
  throw new Error('accepted');
}

describe('Anthropic request → chat request', () => {
  it('system blocks, sampling, stops, user id, stream with usage', () => {
    const chat = toChatRequest(
      parse({
        system: [
          { type: 'text', text: 'Be brief.' },
          { type: 'text', text: 'Be kind.', cache_control: { type: 'ephemeral' } },
        ],
        messages: [{ role: 'user', content: 'Hi' }],
        stop_sequences: ['END'],
        temperature: 0.5,
        top_p: 0.9,
        top_k: 40,
        metadata: { user_id: 'u-1' },
        stream: true,
      }),
      'deepseek-chat',
    );
    expect(chat).toEqual({
      model: 'deepseek-chat',
      messages: [
        { role: 'system', content: 'Be brief.\nBe kind.' },
        { role: 'user', content: 'Hi' },
      ],
      max_tokens: 8,
      stop: ['END'],
      temperature: 0.5,
      top_p: 0.9,
      top_k: 40,
      user: 'u-1',
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(chatCompletionRequest.safeParse(chat).success).toBe(true);
  });

  it('a tool round trip: tool_use → assistant tool_calls, tool_result → tool message before the text', () => {
    const chat = toChatRequest(
      parse({
        tools: [weather],
        tool_choice: { type: 'any', disable_parallel_tool_use: true },
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'I should call it.', signature: 'sig' },
              { type: 'text', text: 'Checking.' },
              { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
            ],
          },
          {
            role: 'user',
            content: [
              {
                type: 'tool_result',
                tool_use_id: 'toolu_1',
                content: [{ type: 'text', text: 'Sunny' }],
              },
              { type: 'text', text: 'And tomorrow?' },
            ],
          },
        ],
      }),
      'm',
    );
    expect(chat.messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: 'Checking.',
        tool_calls: [
          {
            id: 'toolu_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'Sunny' },
      { role: 'user', content: 'And tomorrow?' },
    ]);
    expect(chat.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather of a city',
          parameters: weather.input_schema,
        },
      },
    ]);
    expect(chat.tool_choice).toBe('required');
    expect(chat.parallel_tool_calls).toBe(false);
  });

  it('tool_choice auto/none/tool, is_error results, an assistant turn of calls only, thinking', () => {
    const choice = (tool_choice: unknown) =>
      toChatRequest(
        parse({ tools: [weather], tool_choice, messages: [{ role: 'user', content: 'x' }] }),
        'm',
      ).tool_choice;
    expect(choice({ type: 'auto' })).toBe('auto');
    expect(choice({ type: 'none' })).toBe('none');
    expect(choice({ type: 'tool', name: 'get_weather' })).toEqual({
      type: 'function',
      function: { name: 'get_weather' },
    });
    const chat = toChatRequest(
      parse({
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [
          { role: 'user', content: 'x' },
          {
            role: 'assistant',
            content: [{ type: 'tool_use', id: 'call_9', name: 'f', input: {} }],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'call_9', content: 'boom', is_error: true },
            ],
          },
        ],
      }),
      'm',
    );
    expect(chat.thinking).toEqual({ type: 'enabled' });
    expect(chat.messages[1]).toMatchObject({ role: 'assistant', content: null });
    expect(chat.messages[2]).toEqual({
      role: 'tool',
      tool_call_id: 'call_9',
      content: 'Error: boom',
    });
    expect(
      toChatRequest(
        parse({ thinking: { type: 'disabled' }, messages: [{ role: 'user', content: 'x' }] }),
        'm',
      ).thinking,
    ).toEqual({ type: 'disabled' });
  });

  it('refuses what it cannot serve with a 400 that names it', () => {
    expect(
      refusal({
        messages: [
          { role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'http://x' } }] },
        ],
      }),
    ).toMatchObject({
      message: expect.stringMatching(/'image' blocks/),
      param: 'messages.0.content.0',
    });
    expect(
      refusal({ messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }] })
        .message,
    ).toMatch(/'document' blocks/);
    expect(
      refusal({
        messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_9' }] }],
      }).message,
    ).toMatch(/no matching tool_use/);
    // A result answers the previous assistant turn only, and only once.
    expect(
      refusal({
        messages: [
          { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: {} }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1' }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1' }] },
        ],
      }).param,
    ).toBe('messages.2.content.0.tool_use_id');
    expect(
      refusal({
        tools: [
          { type: 'web_search_20250305', name: 'web_search', input_schema: { type: 'object' } },
        ],
        messages: [{ role: 'user', content: 'x' }],
      }).message,
    ).toMatch(/server tool 'web_search_20250305'/);
    expect(
      refusal({ messages: [{ role: 'user', content: [{ type: 'thinking', thinking: 'x' }] }] })
        .message,
    ).toMatch(/user message cannot hold 'thinking'/);
  });

  it('the schema refuses unknown block types and a missing max_tokens by name', () => {
    const unknown = messagesRequest.safeParse({
      model: 'm',
      max_tokens: 1,
      messages: [{ role: 'user', content: [{ type: 'hologram' }] }],
    });
    expect(unknown.error?.issues[0].message).toMatch(/unknown content block type/);
    expect(unknown.error?.issues[0].path).toEqual(['messages', 0, 'content', 0, 'type']);
    const noMax = messagesRequest.safeParse({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(noMax.error?.issues[0].path).toEqual(['max_tokens']);
  });
});

describe('model names, as DeepSeek maps them', () => {
  const served =
    (...ids: string[]) =>
    async (id: string) =>
      ids.includes(id);

  it('claude-opus* → the large model, other claude* → the fast one, falling back to deepseek-chat', async () => {
    const all = served('deepseek-v4-pro', 'deepseek-v4-flash', 'deepseek-chat');
    expect(await mapModel('claude-opus-4-1', all)).toBe('deepseek-v4-pro');
    expect(await mapModel('claude-sonnet-4-5', all)).toBe('deepseek-v4-flash');
    expect(await mapModel('claude-3-5-haiku-latest', all)).toBe('deepseek-v4-flash');
    expect(await mapModel('claude-opus-4', served('deepseek-chat'))).toBe('deepseek-chat');
    expect(await mapModel('claude-haiku-4-5', served('tiny'), 'tiny')).toBe('tiny');
    expect(await mapModel('deepseek-chat', all)).toBe('deepseek-chat');
  });

  it('an unknown non-claude name, or a claude name with nothing to serve it, is a 400 naming it', async () => {
    const none = served();
    await expect(mapModel('gpt-4o', none)).rejects.toMatchObject({
      status: 400,
      param: 'model',
      message: expect.stringMatching(/'gpt-4o'/),
    });
    await expect(mapModel('claude-sonnet-4', none, 'missing')).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/deepseek-v4-flash/),
    });
  });
});
