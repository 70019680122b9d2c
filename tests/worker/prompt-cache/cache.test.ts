// The prompt cache end to end, inside workerd with Miniflare's real KV and the real stories260k:
// a repeated prompt restores its blocks (usage says so, billing prices it) and gives the same
// greedy text; tenants never share entries; damaged or foreign entries are misses; `cache: false`.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../../../engine/index';
import type { Usage } from '../../../protocol/usage';
import { chat, frames, rowsOf, settledRow } from '../billing/requests';
import { call, provisionKey, type TestKey } from '../billing/setup';
import { putModel, seedStories260k, sharedModelsPresent, skipReason } from '../seed';
import { LONG_PROMPT, keysOf, saltOf, waitForKeys } from './helpers';

const reason = skipReason(await sharedModelsPresent());

interface Completion {
  choices: { message: { content: string } }[];
  usage: Usage;
}

const ask = async (key: string, body: Record<string, unknown> = {}) => {
  const res = await chat(key, {
    messages: [{ role: 'user', content: LONG_PROMPT }],
    max_tokens: 40,
    ...body,
  });
  expect(res.status).toBe(200);
  return res.json<Completion>();
};

function expectUsage(u: Usage, hits: number) {
  expect(u.prompt_cache_hit_tokens).toBe(hits);
  expect(u.prompt_cache_hit_tokens + u.prompt_cache_miss_tokens).toBe(u.prompt_tokens);
  expect(u.prompt_tokens_details.cached_tokens).toBe(hits);
}

/** Blocks a request stores: every whole block of the positions it computed (prompt, then the answer fed back). */
const storedBlocks = (u: Usage) => Math.floor((u.prompt_tokens + u.completion_tokens - 1) / 64);

describe.skipIf(reason !== null)('prompt cache in workerd', () => {
  let a: TestKey;
  let cold: Completion;

  beforeAll(async () => {
    await seedStories260k();
    a = await provisionKey();
  });

  it("a first request misses and stores its full blocks after the response, the answer's included", async () => {
    cold = await ask(a.key);
    expect(cold.usage.prompt_tokens).toBeGreaterThan(128);
    expect(cold.usage.prompt_tokens).toBeLessThan(192);
    expectUsage(cold.usage, 0);
    // two blocks of prompt and one that ends in the answer (prompt + 39 fed-back tokens pass 192)
    expect(storedBlocks(cold.usage)).toBe(3);
    const keys = await waitForKeys(await saltOf(a.accountId), 3);
    expect(keys).toHaveLength(3);
    expect(keys.every((k) => k.startsWith('pc:v1:') && k.includes(':stories260k@'))).toBe(true);
  });

  it('the second identical request reports hits and returns the same greedy text', async () => {
    const warm = await ask(a.key);
    expectUsage(warm.usage, 128);
    expect(warm.choices[0].message.content).toBe(cold.choices[0].message.content);
    // the ledger bills the hits as hits
    const rows = await rowsOf(a.keyId);
    const last = await settledRow(rows.at(-1)!.id);
    expect(last.cache_hit_tokens).toBe(128);
    expect(warm.usage.cost!.input_cache_hit).toBeGreaterThan(0);
  });

  it('streams the same text with the same hits in its usage chunk', async () => {
    const res = await chat(a.key, {
      messages: [{ role: 'user', content: LONG_PROMPT }],
      max_tokens: 40,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = await frames(res);
    const text = chunks.map((f) => f.choices[0]?.delta?.content ?? '').join('');
    expect(text).toBe(cold.choices[0].message.content);
    expectUsage(chunks.at(-1)!.usage!, 128);
  });

  it('a longer prompt with the same start hits the shared blocks', async () => {
    const res = await chat(a.key, {
      messages: [{ role: 'user', content: `${LONG_PROMPT} blue. Tom came to play.` }],
      max_tokens: 5,
    });
    expectUsage((await res.json<Completion>()).usage, 128);
  });

  it('legacy completions share the cache (same prompt text, same blocks)', async () => {
    const r = await call('/v1/completions', {
      method: 'POST',
      key: a.key,
      body: JSON.stringify({
        model: 'stories260k',
        prompt: LONG_PROMPT,
        max_tokens: 10,
        temperature: 0,
      }),
    });
    expectUsage((await r.json<{ usage: Usage }>()).usage, 128);
  });

  it("a continuation of prompt + answer restores the answer's block too", async () => {
    // the plain chat template joins messages with newlines, so a chat's next turn parts from the
    // answer's tokens right after the prompt; a text continuation (or a real chat template) does not
    const completion = (body: object) =>
      call('/v1/completions', {
        method: 'POST',
        key: a.key,
        body: JSON.stringify({ model: 'stories260k', temperature: 0, ...body }),
      }).then((r) => r.json<{ choices: { text: string }[]; usage: Usage }>());
    const first = await completion({ prompt: LONG_PROMPT, max_tokens: 60 });
    expect(storedBlocks(first.usage)).toBe(3);
    await new Promise((r) => setTimeout(r, 300)); // the write-behind
    const next = await completion({
      prompt: LONG_PROMPT + first.choices[0].text + ' The end.',
      max_tokens: 4,
    });
    expectUsage(next.usage, 192);
  });

  it('another tenant gets no hits, and its own entries', async () => {
    const b = await provisionKey();
    const other = await ask(b.key);
    expectUsage(other.usage, 0);
    expect(other.choices[0].message.content).toBe(cold.choices[0].message.content);
    const keys = await waitForKeys(await saltOf(b.accountId), 2);
    const mine = await keysOf(await saltOf(a.accountId));
    expect(keys.some((k) => mine.includes(k))).toBe(false);
    expectUsage((await ask(b.key)).usage, 128);
  });

  it('`cache: false` neither restores nor stores', async () => {
    expectUsage((await ask(a.key, { cache: false })).usage, 0);
    const c = await provisionKey();
    expectUsage((await ask(c.key, { cache: false })).usage, 0);
    await new Promise((r) => setTimeout(r, 200));
    expect(await keysOf(await saltOf(c.accountId))).toEqual([]);
  });

  describe('damaged entries are misses, never wrong text', () => {
    let t: TestKey;
    let keys: string[];
    let good: string[];

    beforeAll(async () => {
      t = await provisionKey();
      await ask(t.key);
      keys = (await waitForKeys(await saltOf(t.accountId), storedBlocks(cold.usage))).sort();
      good = await Promise.all(keys.map(async (k) => (await env.PROMPT_CACHE.get(k))!));
    });

    /** The stored blocks in chain order (by the start position in their header). */
    async function blockOrder(): Promise<string[]> {
      const start = (text: string) => new DataView(fromBase64(text)!.buffer).getUint32(8, true);
      return keys
        .map((k, i) => [k, start(good[i])] as const)
        .sort((x, y) => x[1] - y[1])
        .map(([k]) => k);
    }

    const damage: [string, (text: string) => string][] = [
      ['truncated', (s) => s.slice(0, s.length >> 1)],
      [
        'bit-flipped',
        (s) => {
          const b = fromBase64(s)!;
          b[b.length >> 1] ^= 0x10;
          return toBase64(b);
        },
      ],
      ['not base64', () => '%%% not an entry %%%'],
    ];

    for (const [what, spoil] of damage) {
      it(`${what} second block: only the first is restored, and the block is written again`, async () => {
        const [, second] = await blockOrder();
        const text = good[keys.indexOf(second)];
        const spoiled = spoil(text);
        await env.PROMPT_CACHE.put(second, spoiled);
        await new Promise((r) => setTimeout(r, 1050)); // past the isolate's one-write-per-second window
        const res = await ask(t.key);
        expectUsage(res.usage, 64);
        expect(res.choices[0].message.content).toBe(cold.choices[0].message.content);
        // written again (computed after the restored first block, so not necessarily the same bytes)
        const deadline = Date.now() + 5000;
        while ((await env.PROMPT_CACHE.get(second)) === spoiled) {
          if (Date.now() > deadline) throw new Error('the damaged block was not written again');
          await new Promise((r) => setTimeout(r, 25));
        }
        await new Promise((r) => setTimeout(r, 1050));
        expectUsage((await ask(t.key)).usage, 128);
      });
    }

    it('another model id gets no hits, even with the same weights; its entries are misses for this one', async () => {
      const [checkpoint, tokenizer] = await Promise.all(
        ['checkpoint', 'tokenizer'].map(async (f) =>
          (await env.FIXTURES.fetch(`http://fixtures/stories260k/${f}`)).arrayBuffer(),
        ),
      );
      await putModel('stories260k-twin', checkpoint, tokenizer);
      const twin = await ask(t.key, { model: 'stories260k-twin' });
      expectUsage(twin.usage, 0);
      const salt = await saltOf(t.accountId);
      const twinKeys = (await waitForKeys(salt, 2 * storedBlocks(cold.usage))).filter((k) =>
        k.includes(':stories260k-twin@'),
      );
      expect(twinKeys).toHaveLength(storedBlocks(cold.usage));
      // put the twin's entries under this model's keys: a wrong-model entry is a miss
      const [first, second] = await blockOrder();
      const twinTexts = await Promise.all(
        twinKeys.map(async (k) => (await env.PROMPT_CACHE.get(k))!),
      );
      const twinFirst = twinTexts.find(
        (x) => new DataView(fromBase64(x)!.buffer).getUint32(8, true) === 0,
      )!;
      await env.PROMPT_CACHE.put(first, twinFirst);
      await env.PROMPT_CACHE.put(
        second,
        twinTexts.find((x) => new DataView(fromBase64(x)!.buffer).getUint32(8, true) === 64)!,
      );
      const res = await ask(t.key);
      expectUsage(res.usage, 0);
      expect(res.choices[0].message.content).toBe(cold.choices[0].message.content);
    });
  });
});
