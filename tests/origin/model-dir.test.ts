// `npm run synthetic-model` output served from disk: the same weights as `synthetic:tiny` in memory,
// so the same greedy text; the directory's name is the model id. The in-memory files, shared within
// the process, are unchanged by serving.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { filesDigest, readModelFiles } from '../../origin/model/load';
import { parseOriginArgs } from '../../origin/options';
import { createOrigin } from '../../origin/start';
import type { Completion, ModelList } from '../../protocol/responses';
import { writeSyntheticModel } from '../../tools/synthetic-model';

const dir = join(mkdtempSync(join(tmpdir(), 'origin-model-')), 'tiny-on-disk');

describe('origin: a model directory', () => {
  afterAll(() => rmSync(dirname(dir), { recursive: true, force: true }));

  it('serves a synthetic checkpoint written to disk like the in-memory one', async () => {
    expect(writeSyntheticModel(dir, 'tiny').sort()).toEqual([
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const fromDisk = await createOrigin(parseOriginArgs(['--model', dir, '--max-seqs', '2']));
    const inMemory = await createOrigin(
      parseOriginArgs(['--model', 'synthetic:tiny', '--max-seqs', '2']),
    );
    const models = (await (await fromDisk.app.request('/v1/models')).json()) as ModelList;
    expect(models.data[0].id).toBe(basename(dir));
    expect(fromDisk.context.weightsDigest).toBe(inMemory.context.weightsDigest);
    const ask = async (o: typeof fromDisk, model: string) => {
      const res = await o.app.request('/v1/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model,
          prompt: 'From disk',
          max_tokens: 16,
          temperature: 0,
          ignore_eos: true,
        }),
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as Completion).choices[0].text;
    };
    expect(await ask(fromDisk, basename(dir))).toBe(await ask(inMemory, 'synthetic-tiny'));
    // synthetic:tiny is generated once per process and shared: serving must leave its bytes alone
    const shared = readModelFiles('synthetic:tiny').files;
    expect(readModelFiles('synthetic:tiny').files).toBe(shared);
    expect(filesDigest(shared)).toBe(inMemory.context.weightsDigest);
  });
});
