// The token bound reserved before an origin counts a chat's prompt: every part the template renders
// (text, assistant tool calls, the offered tools) is in the text it is computed from.
import { describe, expect, it } from 'vitest';
import { chatPromptText, reserveTokens } from '../../dispatch/origin-call';

describe('chatPromptText', () => {
  const args = JSON.stringify({ city: 'Paris', days: Array.from({ length: 40 }, (_, i) => i) });
  const tools = [
    { type: 'function', function: { name: 'forecast', parameters: { type: 'object' } } },
  ];
  const messages = [
    { role: 'user', content: 'Weather?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ function: { name: 'forecast', arguments: args } }],
    },
    { role: 'tool', content: [{ text: 'sunny, ' }, { text: '21 C' }] },
  ];

  it('holds the text, the tool calls and the tools', () => {
    const text = chatPromptText(messages, tools);
    for (const part of ['Weather?', args, 'sunny, 21 C', JSON.stringify(tools), 'forecast'])
      expect(text).toContain(part);
    expect(reserveTokens(text)).toBeGreaterThan(args.length + JSON.stringify(tools).length);
  });

  it('without tools, only the turns', () => {
    expect(chatPromptText([{ role: 'user', content: 'hi' }])).toBe('user\nhi');
    expect(chatPromptText([{ role: 'user', content: 'hi' }], [])).toBe('user\nhi');
  });
});
