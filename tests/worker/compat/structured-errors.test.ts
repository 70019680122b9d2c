// Bad structured-output and tool input gets a 400 in OpenAI's error shape naming the field
// (`param`), never a 500: unknown response_format types, schemas the grammar engine cannot
// guarantee, tool_choice that names no tool or comes without tools, orphan tool results.
import { beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL, MODEL, prepare, reason, workerFetch } from './setup';

const user = [{ role: 'user', content: 'Hello json' }];
const tool = (parameters: object = { type: 'object', properties: { a: { type: 'string' } } }) => ({
  type: 'function',
  function: { name: 'f', parameters },
});

describe.skipIf(reason !== null)('structured output and tools: 400s', () => {
  let key: string;
  beforeAll(async () => {
    key = await prepare();
  });
  const post = async (body: object) => {
    const res = await workerFetch(`${BASE_URL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: MODEL, max_tokens: 4, ...body }),
    });
    const json = (await res.json()) as { error: { message: string; param: string; type: string } };
    return { status: res.status, ...json.error };
  };

  it.each([
    [
      'an unknown response_format type',
      { response_format: { type: 'yaml' } },
      'response_format.type',
      /yaml|json_schema/,
    ],
    [
      'json_schema without its object',
      { response_format: { type: 'json_schema' } },
      'response_format.json_schema',
      /json_schema/,
    ],
    [
      'an unsupported schema keyword',
      {
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'x', schema: { type: 'object', patternProperties: { '^a': {} } } },
        },
      },
      'response_format.json_schema.schema',
      /patternProperties/,
    ],
    [
      'an invalid schema (unknown type)',
      {
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'x', schema: { type: 'strng' } },
        },
      },
      'response_format.json_schema.schema',
      /strng|type/,
    ],
    ['tool_choice without tools', { tool_choice: 'required' }, 'tool_choice', /tools/],
    [
      'tool_choice naming no tool',
      { tools: [tool()], tool_choice: { type: 'function', function: { name: 'g' } } },
      'tool_choice.function.name',
      /'g'/,
    ],
    [
      "a tool's unsupported parameters schema",
      { tools: [tool({ type: 'object', not: { type: 'null' } })] },
      'tools.0.function.parameters',
      /"not"/,
    ],
    [
      'a tool result answering no call',
      {
        tools: [tool()],
        messages: [...user, { role: 'tool', tool_call_id: 'call_nope', content: '1' }],
      },
      'messages.1.tool_call_id',
      /call_nope/,
    ],
    [
      'an invalid tool name',
      { tools: [{ type: 'function', function: { name: 'a b' } }] },
      'tools.0.function.name',
      /names/,
    ],
  ])('%s', async (_, body, param, message) => {
    const e = await post({ messages: user, ...body });
    expect(e.status).toBe(400);
    expect(e.type).toBe('invalid_request_error');
    expect(e.param).toBe(param);
    expect(e.message).toMatch(message);
  });

  it('json_object without "json" in a system or user message', async () => {
    const e = await post({
      messages: [{ role: 'user', content: 'Hello' }],
      response_format: { type: 'json_object' },
    });
    expect([e.status, e.param]).toEqual([400, 'messages']);
    expect(e.message).toMatch(/json/);
  });
});
