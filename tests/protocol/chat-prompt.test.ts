// The one chat prompt (protocol/chat-prompt.ts) with tools, prefix completion and the thinking
// switch together: a tool-aware template gets `tools` and `enable_thinking`, a prefix is appended
// raw after the tool-aware rendering, and the plain template gets the generic tool preamble.
import { describe, expect, it } from 'vitest';
import { ChatTemplate } from '../../engine/tokenizers/chat-template';
import { renderToolChat } from '../../protocol/chat-prompt';
import type { ChatMessage } from '../../protocol/requests';
import type { ToolDefinitionT } from '../../protocol/tool-requests';

/** Qwen3-like: lists tools, closes an empty think block when enable_thinking is false. */
const QWEN3 = new ChatTemplate(
  "{% if tools %}{{ '<tools>' }}{% for t in tools %}{{ t.function.name }}{% endfor %}{{ '</tools>\\n' }}{% endif %}" +
    "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% if enable_thinking is defined and enable_thinking is false %}{{ '<think>\\n\\n</think>\\n\\n' }}{% endif %}{% endif %}",
);
const tools = [
  { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } },
] as ToolDefinitionT[];
const user: ChatMessage = { role: 'user', content: 'Weather in Rome?' };
const prefix: ChatMessage = { role: 'assistant', content: 'Let me', prefix: true };

describe('renderToolChat: tools + prefix + thinking in one prompt', () => {
  it('a tool-aware template gets the tools and the thinking switch; a prefix is continued raw', () => {
    const off = renderToolChat(QWEN3, [user, prefix], tools, {
      thinking: 'disabled',
      reasoning: false,
    });
    expect(off.prompt).toBe(
      '<tools>get_weather</tools>\n<|im_start|>user\nWeather in Rome?<|im_end|>\n' +
        '<|im_start|>assistant\n<think>\n\n</think>\n\nLet me',
    );
    expect(off.reasoning).toBe(false);
    const on = renderToolChat(QWEN3, [user], tools, { thinking: 'enabled', reasoning: true });
    expect(on.prompt).toMatch(/^<tools>get_weather<\/tools>\n/);
    expect(on.prompt.endsWith('<|im_start|>assistant\n')).toBe(true);
    expect(on.reasoning).toBe(true);
  });

  it('the plain template gets the generic tool preamble, and a prefix ends the prompt', () => {
    const { prompt, reasoning } = renderToolChat(null, [user, prefix], tools, { reasoning: true });
    expect(prompt).toMatch(/<tools>\n\{"name":"get_weather"/);
    expect(prompt.endsWith('Weather in Rome?\nLet me')).toBe(true);
    expect(reasoning).toBe(false);
  });

  it('a template that rejects the messages is a 400 on messages', () => {
    const strict = new ChatTemplate("{{ raise_exception('roles must alternate') }}");
    expect(() => renderToolChat(strict, [user], tools, { reasoning: false })).toThrow(
      expect.objectContaining({ status: 400, param: 'messages' }),
    );
  });
});
