// Q4_0 repacked at load (engine/llama/packed.ts): a q4 model loaded where the relaxed-SIMD q4x8 kernels are
// bound (Node 22's kernels-relaxed.wasm) has every Q4_0 matrix repacked in place; its logits stay within the
// int8-activation bound of the row-major load's (the two round the per-block sums differently), its embedding
// rows are the same values, and the plain-SIMD q4x8 kernels over the same packed bytes give the same bits.
import { describe, expect, it } from 'vitest';
import { syntheticLlama2cCheckpoint, syntheticLlama2cTokenizer } from '../../../engine/index';
import { importLlama2c } from '../../../engine/formats/import-llama2c';
import { embed, type DeviceWeights } from '../../../engine/llama/forward';
import { packWeights } from '../../../engine/llama/packed';
import { createWasmKernels } from '../../../kernels-wasm/index';
import { createNodeKernels, loadKernelsModule } from '../../../kernels-wasm/node';
import type { KernelBackend } from '../../../kernels-wasm/types';
import { logitsOf, throughModelDir } from '../formats/helpers';
import { nmse } from '../../ops/nmse';

const SHAPE = {
  dim: 96,
  hiddenDim: 256,
  nLayers: 2,
  nHeads: 6,
  nKvHeads: 2,
  vocabSize: 320,
  seqLen: 64,
};
const TOKENS = [1, 45, 200, 7, 319, 88, 12, 150];
const imported = () =>
  importLlama2c(syntheticLlama2cCheckpoint(SHAPE, 21), syntheticLlama2cTokenizer(SHAPE.vocabSize));

function internals(model: unknown) {
  return model as { backend: KernelBackend; weights: DeviceWeights };
}
const formats = (w: DeviceWeights) => [
  w.tokenEmbedding.format,
  ...w.layers.flatMap((l) => [l.wq, l.wk, l.wv, l.wo, l.w1, l.w2, l.w3].map((m) => m.format)),
];

describe('Q4_0 repacked at load', async () => {
  const relaxed = await createNodeKernels();
  const canPack = relaxed.q4x8?.relaxed === true;

  it.skipIf(!canPack)(
    'packs every Q4_0 matrix where the relaxed kernels are bound; logits stay close',
    async () => {
      const packed = await throughModelDir(relaxed, imported(), 'q4');
      const plain = await throughModelDir(
        await createWasmKernels(await loadKernelsModule()),
        imported(),
        'q4',
      );
      const pw = internals(packed.model).weights,
        qw = internals(plain.model).weights;
      expect(new Set(formats(pw))).toEqual(new Set(['q4x8']));
      expect(new Set(formats(qw))).toEqual(new Set(['q4']));
      const a = logitsOf(packed.model, TOKENS),
        b = logitsOf(plain.model, TOKENS);
      // the same int8 activations and integer block sums, rounded in another order: f32 rounding only
      a.forEach((row, i) => expect(nmse(row, b[i])).toBeLessThan(1e-9));
      for (const token of [0, 7, 8, 100, 319]) {
        const kp = internals(packed.model).backend,
          kq = internals(plain.model).backend;
        const xp = kp.alloc(SHAPE.dim),
          xq = kq.alloc(SHAPE.dim);
        embed(kp, xp, pw.tokenEmbedding, token);
        embed(kq, xq, qw.tokenEmbedding, token);
        expect(Array.from(kp.f32(xp, SHAPE.dim))).toEqual(Array.from(kq.f32(xq, SHAPE.dim)));
      }
    },
  );

  it.skipIf(!canPack)(
    "the plain-SIMD q4x8 kernels give the relaxed ones' bits on the same packed weights",
    async () => {
      const k = await createWasmKernels(await loadKernelsModule());
      const plain = await throughModelDir(k, imported(), 'q4');
      expect(packWeights(k, internals(plain.model).weights)).toBe(0); // not without the relaxed kernels…
      expect(packWeights(k, internals(plain.model).weights, true)).toBe(15); // …unless forced (7 per layer + the tied embedding)
      const packed = await throughModelDir(relaxed, imported(), 'q4');
      const a = logitsOf(plain.model, TOKENS),
        b = logitsOf(packed.model, TOKENS);
      a.forEach((row, i) => expect(Array.from(row)).toEqual(Array.from(b[i])));
    },
  );
});
