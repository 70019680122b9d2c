// Synthetic checkpoints are generated once per process (tests build many tiny origins) and shared:
// serving from them must leave their bytes alone, or the next origin would load other weights.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readModelFiles } from '../../origin/model/load';
import { parseOriginArgs } from '../../origin/options';
import { createOrigin } from '../../origin/start';

const digest = (files: Record<string, Uint8Array>) => {
  const h = createHash('sha256');
  for (const name of Object.keys(files).sort()) h.update(name).update(files[name]);
  return h.digest('hex');
};

describe('origin model loading', () => {
  it('generates synthetic:tiny once per seed and serving leaves the shared files unchanged', async () => {
    const first = readModelFiles('synthetic:tiny');
    expect(readModelFiles('synthetic:tiny').files).toBe(first.files);
    expect(readModelFiles('synthetic:tiny', 2).files).not.toBe(first.files);
    const before = digest(first.files);
    const o = await createOrigin(
      parseOriginArgs(['--model', 'synthetic:tiny', '--backend', 'reference', '--max-seqs', '2']),
    );
    const res = await o.app.request('/v1/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'synthetic-tiny', prompt: 'hi', max_tokens: 4, seed: 1 }),
    });
    expect(res.status).toBe(200);
    expect(digest(first.files)).toBe(before);
  });
});
