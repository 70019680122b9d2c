// The origin's prompt block keys (origin/scheduler/prefix-cache.ts promptBlockKeys): node:crypto's SHA-256
// answered at once gives the same keys as Web Crypto's (what the Worker and engine compute), and a long
// prompt's keys take no event-loop turn: Node answers Web Crypto from its thread pool, a turn per block, and
// on an origin busy with steps a turn is a step.
import { expect, it } from 'vitest';
import { cacheableBlocks, chainHashes, toHex } from '../../engine/prompt-cache/blocks';
import { promptBlockKeys } from '../../origin/scheduler/prefix-cache';
import { turnsDuring } from '../engine/helpers';

const seed = { tenantSalt: 'tenant-7', modelId: 'pystd-mla-moe', weightsDigest: 'cd'.repeat(32) };
const ids = Array.from({ length: 2000 }, (_, i) => (i * 7919 + 13) % 20_755);

it('names blocks as Web Crypto does', async () => {
  const webCrypto = (await chainHashes(seed, ids, cacheableBlocks(ids.length))).map(toHex);
  expect(webCrypto).toHaveLength(31);
  expect(await promptBlockKeys(seed, ids)).toEqual(webCrypto);
  expect(await promptBlockKeys({ ...seed, tenantSalt: 'tenant-8' }, ids)).not.toEqual(webCrypto);
});

it('keys a 2,000-token prompt without an event-loop turn', async () => {
  const keyed = await turnsDuring(() => promptBlockKeys(seed, ids));
  expect(keyed.result).toHaveLength(31);
  expect(keyed.turns).toBe(0);
  // Web Crypto's digest, as before, took a turn a block
  expect((await turnsDuring(() => chainHashes(seed, ids, 31))).turns).toBeGreaterThan(5);
});
