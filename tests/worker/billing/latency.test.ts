// Per-request latency on edge answers (stories260k in workerd): a JSON answer says its time to
// first token and decode speed in Server-Timing (beside the prompt cache's entries) and in
// usage.timing; a stream says them in its last chunk's usage; the ledger records what the answer
// said. workerd's clock moves only on I/O, so values are checked for shape and agreement, never
// against a wall clock.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Usage } from '../../../protocol/usage';
import { seedStories260k, sharedModelsPresent, skipReason } from '../seed';
import { chat, frames, rowsOf } from './requests';
import { provisionKey } from './setup';
import { expectConsistent, ledgerTiming, serverTimings } from './timing';

const reason = skipReason(await sharedModelsPresent());

describe.skipIf(reason !== null)('per-request latency on the edge', () => {
  beforeAll(seedStories260k);

  it('a JSON answer: Server-Timing ttft and decode (pc-* kept), usage.timing, the ledger row', async () => {
    const k = await provisionKey();
    // Long enough for a 64-token block: the prompt cache looks it up and says so in Server-Timing too.
    const content = 'Once upon a time there was a little dog who liked to run. '.repeat(8);
    const res = await chat(k.key, { max_tokens: 24, messages: [{ role: 'user', content }] });
    expect(res.status).toBe(200);
    const body = await res.json<{ usage: Usage }>();
    const timing = body.usage.timing!;
    expectConsistent(timing, body.usage.completion_tokens);
    const st = serverTimings(res.headers.get('server-timing') ?? '');
    expect([...st.keys()]).toEqual(['pc-hash', 'pc-read', 'pc-decode', 'ttft', 'decode']);
    for (const { dur } of st.values()) expect(Number.isFinite(dur)).toBe(true);
    expect(st.get('ttft')!.dur).toBe(timing.ttft_ms);
    expect(st.get('decode')!.dur).toBe(timing.decode_ms);
    expect(st.get('decode')!.desc).toBe(
      timing.decode_tokens_per_second === null
        ? undefined
        : `tok/s=${timing.decode_tokens_per_second.toFixed(2)}`,
    );
    const row = await ledgerTiming(res.headers.get('x-request-id')!);
    expect(row).toMatchObject({
      ttft_ms: timing.ttft_ms,
      decode_tps: timing.decode_tokens_per_second,
    });
  });

  it("a stream's last chunk carries usage.timing, with or without a usage chunk; the ledger agrees", async () => {
    const k = await provisionKey();
    for (const includeUsage of [true, false]) {
      const res = await chat(k.key, {
        max_tokens: 20,
        stream: true,
        ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
      });
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const chunks = await frames(res);
      const last = chunks.at(-1)!;
      // include_usage keeps its meaning: a usage chunk with no choices, or the cost on the finish frame.
      expect(last.choices.length === 0).toBe(includeUsage);
      expect(chunks.slice(0, -1).every((c) => !c.usage)).toBe(true);
      const usage = last.usage!;
      expectConsistent(usage.timing!, usage.completion_tokens);
      const row = await ledgerTiming(res.headers.get('x-request-id')!);
      expect(row.ttft_ms).toBe(usage.timing!.ttft_ms);
      expect(row.decode_tps).toBe(usage.timing!.decode_tokens_per_second);
    }
    expect(await rowsOf(k.keyId)).toHaveLength(2);
  });

  it('a request refused as bad input stays a 4xx and records no latency', async () => {
    const k = await provisionKey();
    const res = await chat(k.key, { max_tokens: -3 });
    expect(res.status).toBe(400);
    expect(res.headers.get('server-timing')).toBeNull();
    expect(await rowsOf(k.keyId)).toHaveLength(0);
  });
});
