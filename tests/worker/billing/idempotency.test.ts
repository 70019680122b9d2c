// An Idempotency-Key makes a retry not bill twice: a completed request is replayed (same body,
// same cost, marked idempotent-replayed), one in flight is a 409, a different body is a 422.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Usage } from '../../../protocol/usage';
import { seedStories260k, sharedModelsPresent, skipReason } from '../seed';
import { chat, frames, rowsOf } from './requests';
import { balanceNanos, provisionKey } from './setup';

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
