// A reasoning chat's think block split on the origin (origin/server/think.ts through respond.ts):
// streamed, the block arrives as `reasoning_content` before any content, a tag cut across tokens
// included, each token's logprob entry on exactly one frame; as JSON, `reasoning_content` beside
// `content`; both count the block's tokens in `completion_tokens_details.reasoning_tokens`. Real
// queues and frames.
import { describe, expect, it } from 'vitest';
import { chatFrames } from '../../protocol/endpoint-frames';
import type { TokenLogprob } from '../../protocol/responses';
import { makeUsage } from '../../protocol/usage';
import { EventQueue } from '../../origin/scheduler/event-queue';
import type { Sequence, SequenceEvent } from '../../origin/scheduler/sequence';
import type { ChoiceEvents } from '../../origin/server/choices';
import { collect, stream } from '../../origin/server/respond';

const head = { id: 'chatcmpl-t', created: 1, model: 'tiny', system_fingerprint: 'fp' };

/** The tokens of one answer: a think block whose tags are cut across tokens, then the answer. */
const TOKENS = ['<th', 'ink>', 'Let me', ' see.</th', 'ink>\n\n', 'The answer', ' is 4.'];

const entry = (t: string): TokenLogprob => ({
  token: t,
  logprob: -0.5,
  bytes: [...new TextEncoder().encode(t)],
  top_logprobs: [],
});

function choice(withLogprobs: boolean): ChoiceEvents {
  const q = new EventQueue<SequenceEvent>();
  for (const t of TOKENS)
    q.push({ kind: 'text', text: t, ...(withLogprobs ? { logprobs: [entry(t)] } : {}) });
  q.push({ kind: 'end', finishReason: 'stop', usage: makeUsage(9, TOKENS.length) });
  const seq = { req: { sampling: {} }, logprobs: [] } as unknown as Sequence;
  return { seq, next: () => q.next(), poll: () => q.poll() };
}

async function frames(res: Response): Promise<Record<string, any>[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((e) => e.startsWith('data: {'))
    .map((e) => JSON.parse(e.slice(6)));
}

describe('a reasoning answer from the origin', () => {
  it('streams the think block as reasoning_content, then the content; logprobs one per token', async () => {
    const res = stream([choice(true)], chatFrames(head, true), true, {}, () => {}, {
      reasoning: true,
    });
    const f = await frames(res);
    const deltas = f.filter((x) => x.choices?.length).map((x) => x.choices[0]);
    const reasoning = deltas.map((c) => c.delta.reasoning_content ?? '').join('');
    const content = deltas.map((c) => c.delta.content ?? '').join('');
    expect(reasoning).toBe('Let me see.');
    expect(content).toBe('The answer is 4.');
    const lastReasoning = deltas.findLastIndex((c) => c.delta.reasoning_content);
    const firstContent = deltas.findIndex((c) => c.delta.content);
    expect(lastReasoning).toBeLessThan(firstContent);
    const entries = deltas.flatMap((c) => c.logprobs?.content ?? []).map((e) => e.token);
    expect(entries).toEqual(TOKENS);
    expect(f.at(-1)!.usage.completion_tokens_details).toEqual({ reasoning_tokens: 5 });
  });

  it('as JSON: reasoning_content beside content, the same count', async () => {
    const body = (await collect([choice(false)], chatFrames(head, false), undefined, true)) as {
      choices: { message: { content: string; reasoning_content?: string } }[];
      usage: { completion_tokens_details?: { reasoning_tokens: number } };
    };
    expect(body.choices[0].message).toMatchObject({
      content: 'The answer is 4.',
      reasoning_content: 'Let me see.',
    });
    expect(body.usage.completion_tokens_details).toEqual({ reasoning_tokens: 5 });
  });

  it('a chat that does not reason keeps its tags as text', async () => {
    const f = await frames(stream([choice(false)], chatFrames(head, false), false, {}, () => {}));
    const content = f.map((x) => x.choices?.[0]?.delta?.content ?? '').join('');
    expect(content).toBe(TOKENS.join(''));
  });
});
