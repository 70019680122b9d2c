// The relay's fast path (dispatch/frame-pass.ts) on the frames vLLM, SGLang and our origin send:
// whatever it passes equals what parsing and rewriting the frame would give; what it cannot vouch
// for it leaves to the slow path (null).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { passFrame, passTarget } from '../../dispatch/frame-pass';
import { repoRoot } from '../../tools/paths';

const target = (includeUsage: boolean) =>
  passTarget('chatcmpl-ours', 'pool "x"', 42, includeUsage, 'fp_ours');

/** The slow path's rewrite of a parsed frame, as dispatch/stream-walk.ts does it: our fingerprint on every frame. */
function slow(data: string, includeUsage: boolean): Record<string, unknown> {
  const frame = JSON.parse(data) as Record<string, unknown>;
  Object.assign(frame, {
    id: 'chatcmpl-ours',
    model: 'pool "x"',
    created: 42,
    system_fingerprint: 'fp_ours',
  });
  if (includeUsage) frame.usage = null;
  else delete frame.usage;
  return frame;
}

const eventsOf = (name: string) => {
  const text = readFileSync(join(repoRoot, 'tests/fixtures/upstream', name), 'utf8');
  return text
    .slice(text.indexOf('\r\n\r\n') + 4)
    .split('\n\n')
    .filter((e) => e.startsWith('data: {'))
    .map((e) => e.slice(6));
};

describe('passFrame', () => {
  for (const name of [
    'vllm-chat-tools.sse.http',
    'vllm-chat-n2-logprobs.sse.http',
    'sglang-chat-tools.sse.http',
    'sglang-chat-reasoning.sse.http',
    'vllm-completions-logprobs.sse.http',
  ])
    it(`${name}: every passed frame equals the slow path's; finishes and usage chunks are not passed`, () => {
      let passed = 0;
      for (const data of eventsOf(name))
        for (const includeUsage of [true, false]) {
          const out = passFrame(data, target(includeUsage));
          const frame = JSON.parse(data) as { choices: { finish_reason?: string | null }[] };
          if (frame.choices.length === 0 || frame.choices.some((c) => c.finish_reason))
            expect(out).toBeNull();
          if (!out) continue;
          passed++;
          expect(JSON.parse(out.text)).toEqual(slow(data, includeUsage));
          const usage = (JSON.parse(data) as { usage?: unknown }).usage ?? null;
          expect(out.usage === null ? null : JSON.parse(out.usage)).toEqual(usage);
        }
      expect(passed).toBeGreaterThanOrEqual(4);
    });

  it("one stream's target remembers the origin's head; a frame with another head still matches the slow path", () => {
    const ours =
      '{"id":"chatcmpl-1","created":1,"model":"tiny","system_fingerprint":"fp","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"x"},"logprobs":null,"finish_reason":null}],"usage":null}';
    for (const includeUsage of [true, false]) {
      const t = target(includeUsage);
      let passed = 0;
      const frames = [
        ...eventsOf('vllm-chat-n2-logprobs.sse.http'),
        ours,
        ...eventsOf('sglang-chat-tools.sse.http'),
        ours.replace('"created":1,', '"created":12,'),
      ];
      for (const data of frames) {
        const out = passFrame(data, t);
        if (!out) continue;
        passed++;
        expect(JSON.parse(out.text)).toEqual(slow(data, includeUsage));
      }
      expect(passed).toBeGreaterThanOrEqual(6);
      expect(t.seen).toContain('"created":12,');
    }
  });

  it("vLLM's role chunk, whose usage is not its last key, goes to the slow path", () => {
    const [role] = eventsOf('vllm-chat-tools.sse.http');
    expect(role).toContain('"prompt_token_ids":null}');
    expect(passFrame(role, target(true))).toBeNull();
  });

  it("our origin's layout (id, created, model, system_fingerprint, object) passes", () => {
    const data =
      '{"id":"chatcmpl-1","created":1,"model":"tiny","system_fingerprint":"fp","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"a \\"b\\" ,\\"usage\\":{"},"logprobs":null,"finish_reason":null}],"usage":null}';
    const out = passFrame(data, target(false))!;
    expect(JSON.parse(out.text)).toEqual(slow(data, false));
  });

  it('a layout it does not know (spaces after colons) is left to the slow path', () => {
    const data =
      '{"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [{"index": 0, "delta": {"content": "a"}}]}';
    expect(passFrame(data, target(true))).toBeNull();
  });
});
