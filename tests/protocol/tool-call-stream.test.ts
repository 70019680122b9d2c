// The split of generated text into content and tool calls (protocol/tool-call-stream.ts): the same
// calls, arguments and content whether the text comes whole (a JSON answer) or token by token (a
// stream), so a streamed answer's deltas add up to the JSON answer's message.
import { describe, expect, it } from 'vitest';
import { ToolCallStream, type StreamEvent } from '../../protocol/tool-call-stream';
import { GENERIC_TOOL_SYNTAX, QWEN_TOOL_SYNTAX, parseToolCalls } from '../../protocol/tool-calls';

/** The text pushed in pieces: the calls, the streamed arguments per call, the content. */
function streamed(text: string, pieces: number, syntax = GENERIC_TOOL_SYNTAX) {
  const s = new ToolCallStream(syntax);
  const events: StreamEvent[] = [];
  for (let i = 0; i < text.length; i += pieces) events.push(...s.push(text.slice(i, i + pieces)));
  events.push(...s.flush());
  const args: string[] = [];
  for (const e of events)
    if ('toolCall' in e)
      args[e.toolCall.index] = (args[e.toolCall.index] ?? '') + e.toolCall.function.arguments;
  const content = events.map((e) => ('content' in e ? e.content : '')).join('');
  return { calls: s.calls.map((c) => [c.function.name, c.function.arguments]), args, content };
}

describe('ToolCallStream', () => {
  const texts = [
    'Sure.<tool_call>{"name": "get_time", "arguments":   {  }}</tool_call>',
    '<tool_call>{"name":"f","arguments":\n {"a": [1, {"b": "}"}]}}</tool_call>\n<tool_call>{"name": "g", "arguments": {}}</tool_call>',
  ];
  for (const text of texts)
    it(`whole or a character at a time, the same calls and arguments: ${JSON.stringify(text).slice(0, 40)}`, () => {
      const whole = streamed(text, text.length);
      for (const n of [1, 2, 3, 7]) {
        const parts = streamed(text, n);
        expect(parts.calls).toEqual(whole.calls);
        expect(parts.args).toEqual(whole.calls.map((c) => c[1]));
        expect(parts.content).toBe(whole.content);
      }
      // the arguments start at their JSON value: whitespace before it belongs to the syntax
      for (const [, args] of whole.calls) expect(args).toMatch(/^[{[]/);
      expect(
        parseToolCalls(text, GENERIC_TOOL_SYNTAX).calls.map((c) => c.function.arguments),
      ).toEqual(whole.calls.map((c) => c[1]));
    });

  it('after a call: a separator is part of the syntax, other text is content, cut anywhere', () => {
    const call = '<tool_call>{"name": "f", "arguments": {}}</tool_call>';
    for (const n of [1, 3, 100]) {
      expect(streamed(`${call}\n`, n).content).toBe('');
      expect(streamed(`${call} Done.`, n).content).toBe(' Done.');
      expect(streamed(`${call}\n${call}`, n).calls).toHaveLength(2);
    }
  });

  it("Qwen's syntax too", () => {
    const text = '<tool_call>\n{"name": "f", "arguments": \t{"x": 1}}\n</tool_call>';
    expect(streamed(text, 1, QWEN_TOOL_SYNTAX).calls).toEqual([['f', '{"x": 1}']]);
    expect(streamed(text, text.length, QWEN_TOOL_SYNTAX).calls).toEqual([['f', '{"x": 1}']]);
  });
});
