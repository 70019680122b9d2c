// An Idempotency-Key makes a retry not bill twice: a completed request is replayed (same body,
// same cost, marked idempotent-replayed), one in flight is a 409, a different body is a 422.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Usage } from '../../../protocol/usage';
import { seedStories260k, sharedModelsPresent, skipReason } from '../seed';
import { chat, frames, MODEL, rowsOf } from './requests';
import { balanceNanos, call, provisionKey } from './setup';

const reason = skipReason(await sharedModelsPresent());

interface Body {
  choices: { message: { content: string }; finish_reason: string }[];
  usage: Usage;
}

describe.skipIf(reason !== null)('idempotency keys', () => {
  beforeAll(seedStories260k);

  it('a retried JSON request is replayed and billed once', async () => {
    const k = await provisionKey({ balance: '1' });
    const headers = { 'idempotency-key': 'retry-1' };
    const first = await chat(k.key, { max_tokens: 24, temperature: 1, seed: 3 }, headers);
    const a = await first.json<Body>();
    const after = await balanceNanos(k.accountId);
    const second = await chat(k.key, { max_tokens: 24, temperature: 1, seed: 3 }, headers);
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    const b = await second.json<Body>();
    expect(b.choices[0].message.content).toBe(a.choices[0].message.content);
    expect(b.usage).toEqual(a.usage);
    expect(second.headers.get('x-cost-total-nanos')).toBe(String(a.usage.cost!.total));
    expect(await balanceNanos(k.accountId)).toBe(after);
    expect(await rowsOf(k.keyId)).toHaveLength(1);
  });

  it('a streamed request retried as a stream replays the same text and cost', async () => {
    const k = await provisionKey({ balance: '1' });
    const body = { max_tokens: 30, stream: true, stream_options: { include_usage: true } };
    const headers = { 'idempotency-key': 'stream-1' };
    const text = (chunks: Awaited<ReturnType<typeof frames>>) =>
      chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    const a = await frames(await chat(k.key, body, headers));
    const replayed = await chat(k.key, body, headers);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    const b = await frames(replayed);
    expect(text(b)).toBe(text(a));
    expect(b[b.length - 1].usage).toEqual(a[a.length - 1].usage);
    expect(await rowsOf(k.keyId)).toHaveLength(1);
  });

  it('a replay is the first answer byte for byte: body (id and created too) and headers', async () => {
    const k = await provisionKey({ balance: '1' });
    const relevant = (r: Response) =>
      [...r.headers].filter(
        ([name]) =>
          name === 'content-type' || name.startsWith('x-cost-') || name.startsWith('x-served-'),
      );
    for (const path of ['/v1/chat/completions', '/v1/completions']) {
      const headers = {
        authorization: `Bearer ${k.key}`,
        'content-type': 'application/json',
        'idempotency-key': `bytes-${path}`,
      };
      const body = JSON.stringify({
        model: MODEL,
        ...(path === '/v1/completions'
          ? { prompt: 'Once upon a time' }
          : { messages: [{ role: 'user', content: 'Once upon a time' }] }),
        max_tokens: 12,
        temperature: 1,
        seed: 5,
        n: 2,
      });
      const send = () => call(path, { method: 'POST', headers, body });
      const first = await send();
      const a = await first.text();
      await new Promise((r) => setTimeout(r, 1100)); // a new `created` second, were it rebuilt
      const again = await send();
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.headers.get('original-request')).toBe(first.headers.get('x-request-id'));
      expect(again.headers.get('x-request-id')).not.toBe(first.headers.get('x-request-id'));
      expect(await again.text()).toBe(a);
      expect(relevant(again)).toEqual(relevant(first));
      expect(relevant(first).length).toBeGreaterThan(3);
    }
  });

  it("a replayed stream carries the first answer's id and created", async () => {
    const k = await provisionKey({ balance: '1' });
    const headers = { 'idempotency-key': 'stream-id' };
    const body = { max_tokens: 10, stream: true };
    const a = await frames(await chat(k.key, body, headers));
    const b = await frames(await chat(k.key, body, headers));
    const heads = (cs: typeof a) => new Set(cs.map((c) => JSON.stringify([c.id, c.created])));
    expect(heads(a).size).toBe(1);
    expect(heads(b)).toEqual(heads(a));
  });

  it('the same key with a different body is a 422; other keys and no key are independent', async () => {
    const k = await provisionKey({ balance: '1' });
    await (await chat(k.key, { max_tokens: 8 }, { 'idempotency-key': 'x' })).text();
    const other = await chat(k.key, { max_tokens: 9 }, { 'idempotency-key': 'x' });
    expect(other.status).toBe(422);
    expect((await other.json<{ error: { code: string } }>()).error.code).toBe(
      'idempotency_key_reused',
    );
    await (await chat(k.key, { max_tokens: 8 })).text();
    await (await chat(k.key, { max_tokens: 8 })).text();
    expect(await rowsOf(k.keyId)).toHaveLength(3);
  });

  it('a retry while the original is still running is a 409 and bills nothing', async () => {
    const k = await provisionKey({ balance: '1' });
    const headers = { 'idempotency-key': 'in-flight' };
    const running = await chat(k.key, { max_tokens: 100, stream: true }, headers);
    const reader = running.body!.getReader();
    await reader.read();
    const dup = await chat(k.key, { max_tokens: 100, stream: true }, headers);
    expect(dup.status).toBe(409);
    expect((await dup.json<{ error: { code: string } }>()).error.code).toBe(
      'idempotency_key_in_use',
    );
    expect(dup.headers.get('retry-after')).toBe('1');
    while (!(await reader.read()).done);
    expect(await rowsOf(k.keyId)).toHaveLength(1);
  });
});
