// /v1/models lists an edge model's context length for both manifest formats: a llama2.c manifest
// carries its checkpoint's seq_len (tools/upload-model.ts writes it), an HF one its context_length.
import { SELF } from 'cloudflare:test';
import { expect, it } from 'vitest';
import { syntheticLlama2cCheckpoint, syntheticLlama2cTokenizer } from '../../engine/index';
import { provisionKey } from './billing/setup';
import { putModel } from './seed';

it('lists a llama2.c model with the context its manifest gives, and none when it gives none', async () => {
  const shape = {
    dim: 16,
    hiddenDim: 32,
    nLayers: 1,
    nHeads: 2,
    nKvHeads: 2,
    vocabSize: 300,
    seqLen: 48,
  };
  const ckpt = syntheticLlama2cCheckpoint(shape, 3);
  const tok = syntheticLlama2cTokenizer(shape.vocabSize);
  await putModel('ctx-listed', ckpt, tok, 'with context', { context_length: shape.seqLen });
  await putModel('ctx-unlisted', ckpt, tok, 'without');
  const { key } = await provisionKey({ balance: '1' });
  const res = await SELF.fetch('http://edge.test/v1/models', {
    headers: { authorization: `Bearer ${key}` },
  });
  expect(res.status).toBe(200);
  const cards = ((await res.json()) as { data: { id: string; context_length?: number }[] }).data;
  expect(cards.find((m) => m.id === 'ctx-listed')?.context_length).toBe(48);
  const unlisted = cards.find((m) => m.id === 'ctx-unlisted');
  expect(unlisted).toBeDefined();
  expect(unlisted).not.toHaveProperty('context_length');
});
