// Batched prefill (matmul over chunks of prompt tokens) against one forward pass per token: the same
// KV cache and last-position logits, in f32 and with quantized weights, across chunk boundaries.
import { describe, expect, it } from 'vitest';
import {
  allocSession,
  forward,
  syntheticLlama2cCheckpoint,
  syntheticLlama2cTokenizer,
  type LlamaModel,
} from '../../../engine/index';
import { importLlama2c } from '../../../engine/formats/import-llama2c';
import { allocBatch, prefill, PREFILL_CHUNK } from '../../../engine/llama/prefill';
import { readKv, type KvFormat } from '../../../engine/llama/kv-cache';
import { createTsKernels } from '../../../kernels-wasm/index';
import { createNodeKernels } from '../../../kernels-wasm/node';
import type { KernelBackend } from '../../../kernels-wasm/types';
import { throughModelDir } from '../formats/helpers';
import { nmse } from '../../ops/nmse';

const SHAPE = {
  dim: 96,
  hiddenDim: 256,
  nLayers: 2,
  nHeads: 6,
  nKvHeads: 2,
  vocabSize: 320,
  seqLen: 128,
};
const PROMPT = Array.from({ length: 2 * PREFILL_CHUNK + 7 }, (_, i) => (i * 37 + 11) % 320);

function internals(model: LlamaModel) {
  return model as unknown as { backend: KernelBackend; weights: Parameters<typeof forward>[2] };
}

/** Logits of the last prompt token and the whole KV cache, one way or the other. */
function run(model: LlamaModel, batched: boolean, kv: KvFormat) {
  const { backend: k, weights: w } = internals(model);
  const c = model.config;
  const s = allocSession(k, c, kv);
  const last = PROMPT.length - 1;
  if (batched) {
    const b = allocBatch(k, c, PREFILL_CHUNK, kv === 'int8');
    for (let pos = 0; pos < last; pos += PREFILL_CHUNK)
      prefill(k, c, w, s, b, PROMPT.slice(pos, Math.min(last, pos + PREFILL_CHUNK)), pos);
  } else {
    for (let pos = 0; pos < last; pos++) forward(k, c, w, s, PROMPT[pos], pos, false);
  }
  const logits = k.f32(forward(k, c, w, s, PROMPT[last], last), c.vocabSize).slice();
  const keys = Array.from({ length: c.nLayers }, (_, l) => [
    ...readKv(k, s.kv, c, l, 0, c.seqLen).keys,
  ]).flat();
  return { logits, keys };
}

describe('batched prefill', () => {
  const imported = () =>
    importLlama2c(
      syntheticLlama2cCheckpoint(SHAPE, 13),
      syntheticLlama2cTokenizer(SHAPE.vocabSize),
    );

  for (const [name, backend, quant, tolerance, kv] of [
    ['wasm f32', createNodeKernels, 'f32', 1e-10, 'f32'],
    ['ts f32', async () => createTsKernels(), 'f32', 0, 'f32'],
    ['wasm q8', createNodeKernels, 'q8', 1e-10, 'f32'],
    ['wasm q4', createNodeKernels, 'q4', 1e-10, 'f32'],
    ['wasm fp8', createNodeKernels, 'fp8', 1e-10, 'f32'],
    // int8 cache: a K row rounded differently can flip a code, so the bound is int8's step, not f32's
    ['wasm f32, int8 KV cache', createNodeKernels, 'f32', 1e-6, 'int8'],
    ['wasm q8, int8 KV cache', createNodeKernels, 'q8', 1e-6, 'int8'],
  ] as const) {
    it(`${name}: the same logits and KV cache as token-by-token forward passes`, async () => {
      const { model } = await throughModelDir(await backend(), imported(), quant);
      const a = run(model, true, kv);
      const b = run(model, false, kv);
      expect(nmse(a.logits, b.logits)).toBeLessThanOrEqual(tolerance);
      expect(nmse(a.keys, b.keys)).toBeLessThanOrEqual(tolerance);
    });
  }

  it('generate() greedy tokens equal the token-by-token run on a long prompt', async () => {
    const { model } = await throughModelDir(await createNodeKernels(), imported(), 'q8');
    const tokens: number[] = [];
    for await (const t of model.generate(PROMPT, {
      maxTokens: 12,
      temperature: 0,
      topP: 1,
      stopAtEos: false,
    }))
      tokens.push(t.id);
    const { backend: k, weights: w } = internals(model);
    const s = allocSession(k, model.config, model.kvFormat);
    let logits = 0;
    PROMPT.forEach((t, pos) => (logits = forward(k, model.config, w, s, t, pos)));
    const expected: number[] = [];
    for (let pos = PROMPT.length; expected.length < 12; pos++) {
      const row = k.f32(logits, model.config.vocabSize);
      const next = row.indexOf(Math.max(...row));
      expected.push(next);
      logits = forward(k, model.config, w, s, next, pos);
    }
    expect(tokens).toEqual(expected);
  });
});
