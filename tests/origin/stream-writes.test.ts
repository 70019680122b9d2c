// The origin's SSE writes (origin/server/respond.ts stream()): the events that are ready together
// (a step's MTP tokens, `n` choices) go in one write, and --stream-interval-ms spaces the writes
// after the first output without ever holding that one. Real queues and frames, one body reader.
import { describe, expect, it } from 'vitest';
import { chatFrames } from '../../protocol/endpoint-frames';
import { makeUsage } from '../../protocol/usage';
import { EventQueue } from '../../origin/scheduler/event-queue';
import type { Sequence, SequenceEvent } from '../../origin/scheduler/sequence';
import type { ChoiceEvents } from '../../origin/server/choices';
import { stream } from '../../origin/server/respond';

const head = { id: 'chatcmpl-t', created: 1, model: 'tiny', system_fingerprint: 'fp' };

function choice(): { q: EventQueue<SequenceEvent>; c: ChoiceEvents } {
  const q = new EventQueue<SequenceEvent>();
  return { q, c: { seq: {} as Sequence, next: () => q.next(), poll: () => q.poll() } };
}

const text = (t: string): SequenceEvent => ({ kind: 'text', text: t });
const end: SequenceEvent = { kind: 'end', finishReason: 'stop', usage: makeUsage(3, 4) };

/** Each write of the body as text, with the ms since the reader started. */
async function writes(res: Response): Promise<{ text: string; at: number }[]> {
  const started = performance.now();
  const out: { text: string; at: number }[] = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  for (let r = await reader.read(); !r.done; r = await reader.read())
    out.push({ text: decoder.decode(r.value), at: performance.now() - started });
  return out;
}

const contents = (w: { text: string }) =>
  [...w.text.matchAll(/"content":"([^"]*)"/g)].map((m) => m[1]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('origin SSE writes', () => {
  it('writes the events that are queued together in one write', async () => {
    const a = choice();
    const res = stream([a.c], chatFrames(head, true), true, {}, () => {});
    const got = writes(res);
    a.q.push(text('A'));
    await sleep(20);
    // one step of an MTP sequence: an accepted draft, the verified token, and the end
    a.q.push(text('B'));
    a.q.push(text('C'));
    a.q.push(end);
    const w = await got;
    expect(w.map(contents)).toEqual([
      ['', 'A'],
      ['B', 'C'],
    ]);
    expect(w[1].text).toContain('"finish_reason":"stop"');
    expect(w[1].text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('writes the choices of one step together (n = 2)', async () => {
    const [a, b] = [choice(), choice()];
    const res = stream([a.c, b.c], chatFrames(head, false), false, {}, () => {});
    const got = writes(res);
    a.q.push(text('a1'));
    await sleep(20);
    b.q.push(text('b1'));
    a.q.push(text('a2'));
    await sleep(20);
    a.q.push(end);
    b.q.push(end);
    const w = await got;
    expect(w.map(contents)).toEqual([['', 'a1'], ['', 'b1', 'a2'], []]);
    expect(w[2].text.match(/"finish_reason":"stop"/g)).toHaveLength(2);
  });

  it('spaces writes by the interval, never holding the first token', async () => {
    const a = choice();
    const res = stream([a.c], chatFrames(head, true), true, {}, () => {}, { intervalMs: 120 });
    const got = writes(res);
    a.q.push(text('t0'));
    // tokens every ~10 ms: the writes after the first hold what came in 120 ms
    for (let i = 1; i <= 24; i++) {
      await sleep(10);
      a.q.push(text(`t${i}`));
    }
    a.q.push(end);
    const w = await got;
    expect(w[0].at).toBeLessThan(60); // the first token went at once
    expect(w.flatMap(contents)).toEqual(['', ...Array.from({ length: 25 }, (_, i) => `t${i}`)]);
    // 25 tokens over ≥ 240 ms in writes ≥ 120 ms apart: a handful of writes, not one per token
    const last = w[w.length - 1].at;
    expect(last).toBeGreaterThan(200);
    expect(w.length).toBeLessThanOrEqual(Math.ceil(last / 120) + 2);
  });
});
