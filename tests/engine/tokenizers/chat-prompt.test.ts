// A chat's prompt beyond its messages: DeepSeek's prefix completion (the last assistant message
// continued raw after the generation prompt) and the thinking switch, on Qwen3- and
// DeepSeek-R1-style templates and on the plain template.
import { describe, expect, it } from 'vitest';
import { ChatTemplate, renderChatPrompt } from '../../../engine/tokenizers/chat-template';

/** ChatML with Qwen3's switch: enable_thinking=false closes an empty think block. */
const QWEN3 = new ChatTemplate(
  "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% if enable_thinking is defined and enable_thinking is false %}{{ '<think>\\n\\n</think>\\n\\n' }}{% endif %}{% endif %}",
);
/** DeepSeek-R1's ending: the generation prompt opens the think block itself. */
const R1 = new ChatTemplate(
  "{% for m in messages %}{{ '<｜' + m.role + '｜>' + m.content }}{% endfor %}{% if add_generation_prompt %}{{ '<｜Assistant｜><think>\\n' }}{% endif %}",
);
const user = { role: 'user', content: 'Write a haiku' };

describe('renderChatPrompt', () => {
  it('prefix: the messages before it with the generation prompt, then its text raw', () => {
    const prefix = { role: 'assistant', content: '```python\n', prefix: true };
    const { prompt, reasoning } = renderChatPrompt(QWEN3, [user, prefix], { reasoning: false });
    expect(prompt).toBe(QWEN3.render([user]) + '```python\n');
    expect(reasoning).toBe(false);
    // without prefix the assistant turn is a finished one
    expect(
      renderChatPrompt(QWEN3, [user, { ...prefix, prefix: false }], { reasoning: false }).prompt,
    ).toContain('```python\n<|im_end|>');
    // the plain template already ends with the text it continues
    expect(renderChatPrompt(null, [user, prefix], { reasoning: false }).prompt).toBe(
      'Write a haiku\n```python\n',
    );
  });

  it('a template that opens <think> makes a reasoning answer; disabled closes it empty', () => {
    const on = renderChatPrompt(R1, [user], { reasoning: false });
    expect(on).toEqual({ prompt: R1.render([user]), reasoning: true });
    const off = renderChatPrompt(R1, [user], { reasoning: false, thinking: 'disabled' });
    expect(off.reasoning).toBe(false);
    expect(off.prompt).toBe('<｜user｜>Write a haiku<｜Assistant｜><think>\n\n</think>\n\n');
    // a prefix continues the answer: the think block is closed before it
    const prefixed = renderChatPrompt(
      R1,
      [user, { role: 'assistant', content: 'Autumn', prefix: true }],
      { reasoning: true },
    );
    expect(prefixed).toEqual({
      prompt: '<｜user｜>Write a haiku<｜Assistant｜><think>\n\n</think>\n\nAutumn',
      reasoning: false,
    });
  });

  it("the switch reaches a template that reads it (Qwen3's enable_thinking)", () => {
    const off = renderChatPrompt(QWEN3, [user], { reasoning: false, thinking: 'disabled' });
    expect(off.prompt.endsWith('<think>\n\n</think>\n\n')).toBe(true);
    expect(off.reasoning).toBe(false);
    // no switch, no flag: the template's own default
    expect(renderChatPrompt(QWEN3, [user], { reasoning: false }).prompt).toBe(QWEN3.render([user]));
    // a reasoning model whose template does not open the block: the model writes <think> itself
    expect(renderChatPrompt(QWEN3, [user], { reasoning: true }).reasoning).toBe(true);
  });
});
