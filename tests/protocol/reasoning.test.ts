// The think-block splitter on every way a stream can cut the tags, against the plain answer
// (split the whole text once with indexOf), and DeepSeek's `thinking` switch.
import { describe, expect, it } from 'vitest';
import { reasoningOn, ThinkSplitter } from '../../protocol/reasoning';

/** The reference: the whole text split at once. */
function whole(text: string): { reasoning: string; content: string } {
  const body = text.trimStart().startsWith('<think>') ? text.trimStart().slice(7) : text;
  const close = body.indexOf('</think>');
  if (close < 0) return { reasoning: body, content: '' };
  return { reasoning: body.slice(0, close), content: body.slice(close + 8).trimStart() };
}

/** Pushes `pieces` and returns what came out, as the client would assemble it. */
function streamed(pieces: string[]) {
  const s = new ThinkSplitter();
  let reasoning = '';
  let content = '';
  let contentBeforeReasoningEnds = false;
  for (const p of [...pieces.map((x) => s.push(x)), s.end()]) {
    if (p.content && s.thinking) contentBeforeReasoningEnds = true;
    reasoning += p.reasoning;
    content += p.content;
  }
  expect({ reasoning, content }).toEqual({ reasoning: s.reasoning, content: s.content });
  return { reasoning, content, contentBeforeReasoningEnds };
}

/** Every way to cut `text` into 3 pieces (two cut points). */
function* cuts(text: string): Generator<string[]> {
  for (let a = 0; a <= text.length; a++)
    for (let b = a; b <= text.length; b++)
      yield [text.slice(0, a), text.slice(a, b), text.slice(b)];
}

describe('ThinkSplitter', () => {
  const cases = [
    '<think>\nLet me see: 2+2.\n</think>\n\nIt is 4.',
    'The template opened it. </think>Answer < 5 and <b>bold</b>',
    '  <think>never closed, as a random model writes <thin',
    '<think></think>\n\nonly content',
    'no tags at all, a reasoning model that never closes',
    '<th', // a prefix of the tag and nothing else
    'reasoning with a fake </thinker> then </think>x</think>y',
  ];
  it('splits the same whatever the token boundaries (every 3-piece cut)', () => {
    for (const text of cases)
      for (const pieces of cuts(text)) {
        const got = streamed(pieces);
        expect({ reasoning: got.reasoning, content: got.content }, JSON.stringify(pieces)).toEqual(
          whole(text),
        );
      }
  });

  it('one character at a time, and the reasoning tokens are the pieces before </think> ends', () => {
    const text = '<think>ab</think>\n\ncd';
    const s = new ThinkSplitter();
    const out = [...text].map((ch) => s.push(ch));
    s.end();
    expect(s.reasoning).toBe('ab');
    expect(s.content).toBe('cd');
    // '<think>ab</think>' is 17 characters: every one of them was pushed while thinking
    expect(s.reasoningTokens).toBe(17);
    // the tag itself never reaches the client
    expect(out.map((o) => o.reasoning + o.content).join('')).toBe('abcd');
  });

  it('content never starts before the think block ends', () => {
    for (const pieces of cuts(cases[0]))
      expect(streamed(pieces).contentBeforeReasoningEnds).toBe(false);
  });
});

describe('reasoningOn', () => {
  it("follows DeepSeek's thinking switch over the model's flag", () => {
    expect(reasoningOn(true, undefined)).toBe(true);
    expect(reasoningOn(false, null)).toBe(false);
    expect(reasoningOn(false, { type: 'enabled' })).toBe(true);
    expect(reasoningOn(true, { type: 'disabled' })).toBe(false);
  });
});
