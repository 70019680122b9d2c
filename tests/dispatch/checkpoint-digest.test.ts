// Both tiers name a checkpoint alike: the Worker's digest of a model's files (dispatch/checkpoint-digest.ts,
// Web Crypto) equals the origin's (origin/model/load.ts filesDigest, node:crypto) on our trained model's
// files and on random bytes, and changes with any byte or name. (In workerd the DigestStream path runs:
// tests/worker/dispatch/edge-handoff.test.ts only passes when the two agree.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkpointDigest } from '../../dispatch/checkpoint-digest';
import { filesDigest } from '../../origin/model/load';
import { repoRoot } from '../../tools/paths';

const dir = join(repoRoot, 'models/pystd-mla-moe');
const files = {
  'config.json': new Uint8Array(readFileSync(join(dir, 'config.json'))),
  'model.safetensors': new Uint8Array(readFileSync(join(dir, 'model.safetensors'))),
};

describe('checkpoint digest', () => {
  it("equals the origin's on our trained model's files", async () => {
    expect(await checkpointDigest(files)).toBe(filesDigest(files));
  });

  it('equals it on random files, and any change of a byte or a name changes it', async () => {
    const a = {
      'b.safetensors': crypto.getRandomValues(new Uint8Array(5000)),
      'a.json': new Uint8Array([1]),
    };
    const d = await checkpointDigest(a);
    expect(d).toBe(filesDigest(a));
    const flipped = a['b.safetensors'].slice();
    flipped[4321] ^= 1;
    expect(await checkpointDigest({ ...a, 'b.safetensors': flipped })).not.toBe(d);
    expect(
      await checkpointDigest({ 'c.json': a['a.json'], 'b.safetensors': a['b.safetensors'] }),
    ).not.toBe(d);
  });
});
