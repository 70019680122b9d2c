// Blocks and chain hashes: which blocks a prompt may cache, and that a hash names exactly one
// (tenant, model, weights, tokens-so-far) — shared prefixes share hashes, anything else does not.
import { expect, it } from 'vitest';
import {
  BLOCK_TOKENS,
  cacheableBlocks,
  chainHashes,
  restoredTokens,
  toHex,
  weightsDigest,
} from '../../../engine/index';

const seed = { tenantSalt: 'salt_a', modelId: 'stories260k', weightsDigest: 'ab'.repeat(32) };
const ids = (n: number, offset = 0) => Array.from({ length: n }, (_, i) => (i * 13 + offset) % 512);
const hex = async (s: typeof seed, p: number[], blocks: number) =>
  (await chainHashes(s, p, blocks)).map(toHex);

it('caches full blocks only; a restore always leaves the last prompt token to compute', () => {
  expect([1, 63, 64, 65, 128, 129, 2048, 2049].map(cacheableBlocks)).toEqual([
    0, 0, 1, 1, 2, 2, 32, 32,
  ]);
  expect(BLOCK_TOKENS).toBe(64);
  expect(restoredTokens(1, 64)).toBe(63);
  expect(restoredTokens(1, 65)).toBe(64);
  expect(restoredTokens(2, 1000)).toBe(128);
  expect(restoredTokens(0, 10)).toBe(0);
});

it('shares hashes over a shared prefix and diverges from the first differing block on', async () => {
  const a = ids(192);
  const b = [...a.slice(0, 100), 7, ...a.slice(101)]; // differs inside block 1
  const [ha, hb] = [await hex(seed, a, 3), await hex(seed, b, 3)];
  expect(hb[0]).toBe(ha[0]);
  expect(hb[1]).not.toBe(ha[1]);
  expect(hb[2]).not.toBe(ha[2]); // block 2's tokens are equal, but its chain is not
  expect(await hex(seed, a.slice(0, 128), 2)).toEqual(ha.slice(0, 2));
});

it('differs per tenant, model and weights digest', async () => {
  const p = ids(64);
  const base = (await hex(seed, p, 1))[0];
  for (const other of [
    { ...seed, tenantSalt: 'salt_b' },
    { ...seed, modelId: 'other' },
    { ...seed, weightsDigest: 'cd'.repeat(32) },
  ]) {
    expect((await hex(other, p, 1))[0]).not.toBe(base);
  }
  // fields are length-prefixed: moving a character from one field to the next changes the seed
  expect((await hex({ ...seed, tenantSalt: 'salt_', modelId: 'astories260k' }, p, 1))[0]).not.toBe(
    base,
  );
});

it('refuses more blocks than the prompt holds', async () => {
  await expect(chainHashes(seed, ids(100), 2)).rejects.toThrow(RangeError);
});

it('weights digest is the SHA-256 of the checkpoint', async () => {
  expect(await weightsDigest(new TextEncoder().encode('abc'))).toBe(
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
  );
});
