// The Worker side of the cache against stub KVs: the write path never holds up the caller (a put
// that never finishes still lets the response go), each key is written at most once a second per
// isolate, with the configured TTL; a whole prefix is one bulk read; KV errors are misses.
import { describe, expect, it } from 'vitest';
import {
  PromptCache,
  promptCacheSettings,
  type PromptCacheIo,
} from '../../../dispatch/prompt-cache';
import { BLOCK_TOKENS, type GqaKvRows } from '../../../engine/index';

const shape = { nLayers: 2, nKvHeads: 2, headDim: 4 };
const scope = { tenantSalt: 'salt_t', modelId: 'm', weightsDigest: 'ab'.repeat(32), shape };
const prompt = Array.from({ length: 3 * BLOCK_TOKENS + 5 }, (_, i) => (i * 11) % 500);

function rows(start: number, count: number): GqaKvRows {
  const n = shape.nLayers * count * shape.nKvHeads * shape.headDim;
  return {
    ...shape,
    start,
    count,
    keys: Float32Array.from({ length: n }, (_, i) => Math.sin(i)),
    values: Float32Array.from({ length: n }, (_, i) => Math.cos(i)),
  };
}

interface Calls {
  gets: string[][];
  puts: { key: string; ttl?: number }[];
}

function stubKv(
  store: Map<string, string>,
  calls: Calls,
  opts: { hangPuts?: boolean; failGets?: boolean } = {},
): KVNamespace {
  return {
    get: async (keys: string[]) => {
      calls.gets.push(keys);
      if (opts.failGets) throw new Error('KV is down');
      return new Map(keys.map((k) => [k, store.get(k) ?? null]));
    },
    put: (key: string, value: string, o?: { expirationTtl?: number }) => {
      calls.puts.push({ key, ttl: o?.expirationTtl });
      if (opts.hangPuts) return new Promise(() => {});
      store.set(key, value);
      return Promise.resolve();
    },
  } as unknown as KVNamespace;
}

function setup(opts: { hangPuts?: boolean; failGets?: boolean } = {}, clock = { now: 0 }) {
  const store = new Map<string, string>();
  const calls: Calls = { gets: [], puts: [] };
  const pending: Promise<unknown>[] = [];
  const io: PromptCacheIo = {
    kv: stubKv(store, calls, opts),
    settings: { codec: 'int8', ttlSeconds: 3600 },
    waitUntil: (p) => pending.push(p),
  };
  return { cache: new PromptCache(() => clock.now), io, store, calls, pending, clock };
}

describe('prompt cache write-behind', () => {
  it('reads the whole prefix in one bulk get and captures the missing blocks', async () => {
    const { cache, io, calls } = setup();
    const use = await cache.open(io, scope, prompt);
    expect(calls.gets).toHaveLength(1);
    expect(calls.gets[0]).toHaveLength(3);
    expect(use).toMatchObject({
      hitTokens: 0,
      restore: [],
      capture: { from: 0, to: 3 * BLOCK_TOKENS },
    });
  });

  it('never holds up the caller: capture returns at once, even when KV never answers', async () => {
    const { cache, io, pending, calls } = setup({ hangPuts: true });
    const use = await cache.open(io, scope, prompt);
    const started = performance.now();
    use.capture!.rows(rows(0, 3 * BLOCK_TOKENS), prompt);
    expect(performance.now() - started).toBeLessThan(20);
    expect(calls.puts).toHaveLength(0); // nothing encoded or written yet: that happens after a turn of the event loop
    expect(pending).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(calls.puts).toHaveLength(3); // the puts were issued; they never finish, and nobody waits on them but waitUntil
  });

  it('writes each key once a second at most, with the TTL; then restores what it wrote', async () => {
    const { cache, io, pending, calls, clock } = setup();
    for (let i = 0; i < 2; i++)
      (await cache.open(io, scope, prompt)).capture!.rows(rows(0, 3 * BLOCK_TOKENS), prompt);
    await Promise.all(pending);
    expect(calls.puts).toHaveLength(3);
    expect(new Set(calls.puts.map((p) => p.key)).size).toBe(3);
    expect(calls.puts.every((p) => p.ttl === 3600)).toBe(true);
    const hit = await cache.open(io, scope, prompt);
    expect(hit.hitTokens).toBe(3 * BLOCK_TOKENS);
    expect(hit.capture).toMatchObject({
      from: 3 * BLOCK_TOKENS,
      to: 3 * BLOCK_TOKENS,
      completion: true,
    }); // only the completion is left to capture
    // a second later the same keys may be written again (e.g. after a damaged entry)
    clock.now += 1000;
    const longer = [...prompt, ...prompt];
    (await cache.open(io, scope, longer)).capture!.rows(
      rows(3 * BLOCK_TOKENS, 3 * BLOCK_TOKENS),
      longer,
    );
    await Promise.all(pending);
    expect(calls.puts).toHaveLength(6);
  });

  it("stores the completion's whole blocks too, keyed on the chain over prompt + sampled tokens", async () => {
    const { cache, io, pending, calls } = setup();
    const sampled = Array.from({ length: 70 }, (_, i) => (i * 7 + 3) % 500);
    const tokens = [...prompt, ...sampled]; // 3 blocks + 5 prompt tokens, then 70 fed back: 4 whole blocks computed
    const use = await cache.open(io, scope, prompt);
    use.capture!.rows(rows(0, tokens.length), tokens);
    await Promise.all(pending);
    expect(calls.puts).toHaveLength(4);
    // the next turn repeats prompt and answer: its prompt restores the block that ends in the answer
    const next = await cache.open(io, scope, [...tokens, 9, 9, 9]);
    expect(next.hitTokens).toBe(4 * BLOCK_TOKENS);
    // a different answer shares only the prompt's blocks
    const other = await cache.open(io, scope, [...prompt, ...sampled.map((t) => t + 1), 9]);
    expect(other.hitTokens).toBe(3 * BLOCK_TOKENS);
  });

  it('a failing KV is a miss, not an error', async () => {
    const { cache, io } = setup({ failGets: true });
    expect(await cache.open(io, scope, prompt)).toMatchObject({ hitTokens: 0, restore: [] });
  });

  it('prompts shorter than a block are not looked up; a one-block prompt hits all but its last token', async () => {
    const { cache, io, calls, pending } = setup();
    expect(await cache.open(io, scope, prompt.slice(0, BLOCK_TOKENS - 1))).toEqual({
      hitTokens: 0,
      restore: [],
    });
    expect(calls.gets).toHaveLength(0);
    const one = prompt.slice(0, BLOCK_TOKENS);
    (await cache.open(io, scope, one)).capture!.rows(rows(0, BLOCK_TOKENS), one);
    await Promise.all(pending);
    expect(await cache.open(io, scope, one)).toMatchObject({
      hitTokens: BLOCK_TOKENS - 1,
      restore: [{ start: 0, count: BLOCK_TOKENS }],
    });
  });

  it('settings: defaults, off, and refused values', () => {
    expect(promptCacheSettings({})).toEqual({ codec: 'int8', ttlSeconds: 86400 });
    expect(
      promptCacheSettings({ PROMPT_CACHE_CODEC: 'f16', PROMPT_CACHE_TTL_SECONDS: '600' }),
    ).toEqual({ codec: 'f16', ttlSeconds: 600 });
    expect(promptCacheSettings({ PROMPT_CACHE_CODEC: 'off' })).toBeNull();
    expect(() => promptCacheSettings({ PROMPT_CACHE_CODEC: 'zip' })).toThrow(/PROMPT_CACHE_CODEC/);
    expect(() => promptCacheSettings({ PROMPT_CACHE_TTL_SECONDS: '30' })).toThrow(/at least|>= 60/);
  });
});
