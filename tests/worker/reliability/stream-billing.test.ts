// What a cancelled stream pays: the prompt and the tokens whose frames its body handed over, nothing
// generated ahead of the reader. The Worker's fetch is called directly here (no runtime pipe between
// the body and this reader), so every read is one frame and the count is exact.
import { createExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { costOf } from '../../../billing/cost';
import { prices } from '../../../billing/prices';
import worker from '../../../worker/index';
import { MODEL, rowsOf, settledRow } from '../billing/requests';
import { balanceNanos, provisionKey, type TestKey } from '../billing/setup';
import { seedStories260k, sharedModelsPresent, skipReason } from '../seed';

const reason = skipReason(await sharedModelsPresent());

function stream(k: TestKey, n = 1, signal?: AbortSignal) {
  const request = new Request('http://edge.test/v1/chat/completions', {
    method: 'POST',
    signal,
    headers: { authorization: `Bearer ${k.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 200,
      temperature: 0,
      stream: true,
      n,
    }),
  });
  return worker.fetch(request as never, env as never, createExecutionContext());
}

async function settled(k: TestKey) {
  const [row] = await rowsOf(k.keyId);
  return settledRow(row.id);
}

describe.skipIf(reason !== null)('a cancelled stream', () => {
  beforeAll(seedStories260k);

  it('cancelled right after its headers: nothing was sent, nothing is billed', async () => {
    const k = await provisionKey({ balance: '1' });
    const res = await stream(k);
    expect(res.status).toBe(200);
    await res.body!.cancel();
    const row = await settled(k);
    expect(row).toMatchObject({ status: 'disconnected', completion_tokens: 0, cost_nanos: 0 });
    expect(await balanceNanos(k.accountId)).toBe(1_000_000_000);
  });

  it('cancelled after K token frames: exactly K tokens (and the prompt) are billed', async () => {
    for (const K of [1, 7]) {
      const k = await provisionKey({ balance: '1' });
      const reader = (await stream(k)).body!.getReader();
      const decoder = new TextDecoder();
      let tokens = 0;
      while (tokens < K) {
        const { value } = await reader.read();
        const frame = decoder.decode(value);
        expect(frame.match(/^data: /gm)).toHaveLength(1); // one frame per read: no pipe here
        if (/"content":"[^"]/.test(frame)) tokens++;
      }
      await reader.cancel();
      const row = await settled(k);
      expect(row).toMatchObject({ status: 'disconnected', completion_tokens: K });
      const price = prices.priceAt(MODEL, 'edge', new Date());
      const cost = costOf(
        { promptTokens: row.prompt_tokens, cachedTokens: 0, completionTokens: K },
        price,
      ).total;
      expect(row.cost_nanos).toBe(cost);
      expect(await balanceNanos(k.accountId)).toBe(1_000_000_000 - cost);
    }
  });

  it('a client gone (request.signal) whose body the runtime still pulls: only the frames read are billed', async () => {
    // A long edge prefill holds the answer's headers; a client that leaves then is told to the
    // Worker only by request.signal, and the runtime may go on pulling the body it returns.
    for (const K of [0, 3]) {
      const k = await provisionKey({ balance: '1' });
      const client = new AbortController();
      if (K === 0) client.abort();
      const reader = (await stream(k, 4, client.signal)).body!.getReader();
      const decoder = new TextDecoder();
      let tokens = 0;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (/"content":"[^"]/.test(decoder.decode(value)) && ++tokens === K) client.abort();
      }
      expect(tokens).toBe(K);
      const row = await settled(k);
      expect(row).toMatchObject({ status: 'disconnected', completion_tokens: K });
      if (K === 0) expect(await balanceNanos(k.accountId)).toBe(1_000_000_000);
    }
  });
});
