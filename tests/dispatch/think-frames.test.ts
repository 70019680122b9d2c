// The relay's think-block split (dispatch/think-frames.ts) frame by frame: raw text split into
// reasoning then content frames with tags cut across frames, per choice index; an origin sending
// `reasoning_content` itself switches it off; reasoning tokens counted into usage.
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../dispatch/relay-types';
import { ThinkFrames } from '../../dispatch/think-frames';
import { makeUsage } from '../../protocol/usage';

const chunk = (content: string | null, index = 0, finish: string | null = null): Frame => ({
  id: 'x',
  choices: [{ index, delta: content === null ? {} : { content }, finish_reason: finish }],
});

const deltas = (frames: Frame[]) => frames.flatMap((f) => f.choices ?? []);

describe('ThinkFrames', () => {
  it('splits raw think text cut across frames, then the content, then the finish', () => {
    const t = new ThinkFrames(true);
    const pieces = ['<th', 'ink>', 'I think', '.</', 'think', '>\n\nHi', ' there'];
    const out = deltas(
      pieces.flatMap((p) => t.split(chunk(p))).concat(t.split(chunk(null, 0, 'stop'))),
    );
    const reasoning = out.map((c) => c.delta?.reasoning_content ?? '').join('');
    const content = out.map((c) => c.delta?.content ?? '').join('');
    expect(reasoning).toBe('I think.');
    expect(content).toBe('Hi there');
    const firstContent = out.findIndex((c) => c.delta?.content);
    expect(out.findLastIndex((c) => c.delta?.reasoning_content)).toBeLessThan(firstContent);
    expect(out.at(-1)).toMatchObject({ delta: {}, finish_reason: 'stop' });
    expect(t.splitting).toBe(true);
    // 6 pieces inside the block: the one that closes it included
    expect(t.count(makeUsage(3, 8)).completion_tokens_details).toEqual({ reasoning_tokens: 6 });
  });

  it('logprobs: each entry once, on the first frame made from it (a frame held back whole passes them on)', () => {
    const t = new ThinkFrames(true);
    const pieces = ['<think>', 'I', '</', 'think>\n\nHi', ' there'];
    const out = deltas(
      pieces.flatMap((p) => {
        const f = chunk(p);
        f.choices![0].logprobs = { content: [{ token: p }] };
        return t.split(f);
      }),
    );
    const entries = out.flatMap((c) => (c.logprobs?.content ?? []) as { token: string }[]);
    expect(entries.map((e) => e.token)).toEqual(pieces);
    // `</think>\n\nHi` became a reasoning frame and a content frame: its entries ride on the first
    const split = out.filter((c) =>
      c.logprobs?.content?.some((e) => (e as { token: string }).token === '</'),
    );
    expect(split).toHaveLength(1);
  });

  it('a think block never closed: every completion token is reasoning', () => {
    const t = new ThinkFrames(true);
    for (const p of ['<think>', 'a', 'b']) t.split(chunk(p));
    t.split(chunk(null, 0, 'length'));
    expect(t.count(makeUsage(3, 9)).completion_tokens_details).toEqual({ reasoning_tokens: 9 });
  });

  it('each choice index has its own splitter', () => {
    const t = new ThinkFrames(true);
    const out = deltas([
      ...t.split(chunk('r0</think>c0', 0)),
      ...t.split(chunk('r1', 1)),
      ...t.split(chunk('</think>c1', 1, 'stop')),
    ]);
    const of = (i: number, k: 'content' | 'reasoning_content') =>
      out
        .filter((c) => c.index === i)
        .map((c) => c.delta?.[k] ?? '')
        .join('');
    expect([of(0, 'reasoning_content'), of(0, 'content')]).toEqual(['r0', 'c0']);
    expect([of(1, 'reasoning_content'), of(1, 'content')]).toEqual(['r1', 'c1']);
  });

  it('an origin that sends reasoning_content itself switches splitting off', () => {
    const t = new ThinkFrames(true);
    const own: Frame = { choices: [{ index: 0, delta: { reasoning_content: 'hm' } }] };
    expect(t.split(own)).toEqual([own]);
    expect(t.splitting).toBe(false);
    const plain = chunk('<think>x');
    expect(t.split(plain)).toEqual([plain]);
    t.noteRaw('{"choices":[{"delta":{"reasoning_content":"more"}}]}');
    t.noteRaw('{"choices":[{"delta":{"reasoning_content":""}}]}');
    expect(t.count(makeUsage(1, 4)).completion_tokens_details).toEqual({ reasoning_tokens: 2 });
    // an origin's own count wins
    const reported = { ...makeUsage(1, 4), completion_tokens_details: { reasoning_tokens: 3 } };
    expect(t.count(reported).completion_tokens_details).toEqual({ reasoning_tokens: 3 });
  });

  it('off for a plain generation: frames pass unchanged, nothing counted', () => {
    const t = new ThinkFrames(false);
    const f = chunk('<think>x</think>y');
    expect(t.split(f)).toEqual([f]);
    expect(t.count(makeUsage(1, 4)).completion_tokens_details).toBeUndefined();
  });
});
