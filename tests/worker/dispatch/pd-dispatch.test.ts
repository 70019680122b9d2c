// Prefill/decode separation through the Worker (docs/origin.md, "Roles"): a pool with prefill and
// decode origins (real origin processes started by the ORIGINS service) answers through its decode
// origin exactly as a colocated origin answers (greedy), billed once; with its prefill origins gone the
// decode origin prefills itself; with the decode origin gone the colocated origin serves.
import { env } from 'cloudflare:workers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../../dispatch/registry';
import { ledgerOf, provisionKey } from '../billing/setup';
import { chat, origin, readStream } from './helpers';

const tenant = await provisionKey();
const key = tenant.key;
const ORIGINS = ['a', 'pf1', 'pf2', 'dec'];
const content = 'The quick brown fox jumps over the lazy dog. '.repeat(6); // ~270 byte tokens

beforeAll(async () => {
  await Promise.all(ORIGINS.map((n) => origin('start', n)));
}, 240_000);
afterAll(async () => {
  await Promise.all(ORIGINS.map((n) => origin('kill', n)));
});

async function ask(model: string) {
  const res = await chat(key, model, content, {
    max_tokens: 16,
    stream: true,
    stream_options: { include_usage: true },
  });
  expect(res.status).toBe(200);
  const s = await readStream(res);
  expect(s.done).toBe(true);
  return { ...s, by: res.headers.get('x-served-by'), id: res.headers.get('x-request-id')! };
}

const handoffs = async () => {
  const { url } = (await (
    await env.ORIGINS.fetch('http://origins/start/dec', { method: 'POST' })
  ).json()) as { url: string };
  return (
    (await (await fetch(`${url}/health`)).json()) as {
      handoff: { pulled: number; fallback: number };
    }
  ).handoff;
};

describe('prefill/decode pool', () => {
  let split: Awaited<ReturnType<typeof ask>>;
  it('serves through the decode origin from a prefill origin, billed once', async () => {
    split = await ask('pool-pd');
    expect(split.by).toBe('origin:origin-dec');
    expect(await handoffs()).toEqual({ pulled: 1, fallback: 0 });
    const usage = split.frames.at(-1)!.usage;
    expect(usage.completion_tokens).toBe(16);
    const rows = (await ledgerOf(tenant.keyId)).filter((r) => r.request_id === split.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      status: 'completed',
      prompt_tokens: usage.prompt_tokens,
      completion_tokens: 16,
    });
  });

  it('with its prefill origins gone the decode origin prefills itself: the same answer', async () => {
    await Promise.all(['pf1', 'pf2'].map((n) => origin('kill', n)));
    const alone = await ask('pool-pd');
    expect(alone.by).toBe('origin:origin-dec');
    expect(alone.text).toBe(split.text);
    expect(await handoffs()).toEqual({ pulled: 1, fallback: 1 });
  });

  it('with the decode origin gone a colocated origin serves: the same answer (greedy parity)', async () => {
    await origin('kill', 'dec');
    const colocated = await ask('pool-pd');
    expect(colocated.by).toBe('origin:origin-a');
    expect(colocated.text).toBe(split.text);
    expect(colocated.frames.at(-1)!.usage.prompt_tokens).toBe(
      split.frames.at(-1)!.usage.prompt_tokens,
    );
  });
});

describe('registry: pool roles', () => {
  const pool = (extra: object) => ({
    models: { m: { placement: 'origin', origins: [{ url: 'http://h1:8000' }], ...extra } },
  });
  it('takes prefill and decode origins beside the colocated ones', () => {
    const m = ModelRegistry.parse(
      pool({ prefill: [{ url: 'http://p:1/' }], decode: [{ url: 'http://d:1' }] }),
    ).get('m');
    expect(m).toMatchObject({ prefill: [{ url: 'http://p:1' }], decode: [{ url: 'http://d:1' }] });
    expect(ModelRegistry.parse(pool({})).get('m')).toMatchObject({ prefill: [], decode: [] });
  });
  it('refuses prefill origins without decode origins, and one URL in two roles', () => {
    expect(() => ModelRegistry.parse(pool({ prefill: [{ url: 'http://p:1' }] }))).toThrow(
      /prefill origins need decode origins/,
    );
    expect(() => ModelRegistry.parse(pool({ decode: [{ url: 'http://h1:8000' }] }))).toThrow(
      /listed twice/,
    );
  });
});
