// llama2.c → model directory → loader: the same logits as the llama2.c checkpoint loaded directly,
// exactly in f32 (the RoPE row permutation is undone at load) and within each format's tolerance.
import { describe, expect, it } from 'vitest';
import {
  LlamaModel,
  syntheticLlama2cCheckpoint,
  syntheticLlama2cTokenizer,
} from '../../../engine/index';
import { importLlama2c } from '../../../engine/formats/import-llama2c';
import { createTsKernels } from '../../../kernels-wasm/index';
import { createNodeKernels } from '../../../kernels-wasm/node';
import { loadStories } from '../helpers';
import { logitsOf, throughModelDir } from './helpers';
import { worstNmse } from '../../ops/nmse';

const SHAPE = {
  dim: 64,
  hiddenDim: 160,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 320,
  seqLen: 32,
};
const TOKENS = [1, 300, 45, 260, 7, 7, 100];

describe('llama2.c import', () => {
  const checkpoint = syntheticLlama2cCheckpoint(SHAPE, 5);
  const tokenizer = syntheticLlama2cTokenizer(SHAPE.vocabSize);

  for (const [name, create] of [
    ['wasm', createNodeKernels],
    ['ts', async () => createTsKernels()],
  ] as const) {
    it(`f32 directory gives bit-identical logits (${name})`, async () => {
      const direct = LlamaModel.fromLlama2c(await create(), checkpoint, tokenizer);
      const { model } = await throughModelDir(
        await create(),
        importLlama2c(checkpoint, tokenizer),
        'f32',
      );
      expect(logitsOf(model, TOKENS)).toEqual(logitsOf(direct, TOKENS));
    });
  }

  it('untied classifier and GQA survive the trip', async () => {
    const untied = syntheticLlama2cCheckpoint({ ...SHAPE, sharedClassifier: false }, 6);
    const direct = LlamaModel.fromLlama2c(await createNodeKernels(), untied, tokenizer);
    const { model, config } = await throughModelDir(
      await createNodeKernels(),
      importLlama2c(untied, tokenizer),
      'f32',
    );
    expect(config.sharedClassifier).toBe(false);
    expect(config.nKvHeads).toBe(2);
    expect(logitsOf(model, TOKENS)).toEqual(logitsOf(direct, TOKENS));
  });

  // Normalized MSE of the logits against the f32 original (measured: f16 1.8e-7, q8 1.1e-4, q4 1.1e-2,
  // fp8 2.0e-3 on this model), and between the quantized kernels (int8 activations for q8/q4) and the
  // same weights dequantized to f32 (measured ≤ 1e-4).
  for (const [quant, tolerance] of [
    ['f16', 1e-6],
    ['q8', 5e-4],
    ['q4', 3e-2],
    ['fp8', 5e-3],
  ] as const) {
    it(`${quant} directory stays within ${tolerance} (wasm kernels, and dequantized on the ts backend)`, async () => {
      const reference = logitsOf(
        LlamaModel.fromLlama2c(await createNodeKernels(), checkpoint, tokenizer),
        TOKENS,
      );
      const viaKernels = await throughModelDir(
        await createNodeKernels(),
        importLlama2c(checkpoint, tokenizer),
        quant,
      );
      const viaTs = await throughModelDir(
        createTsKernels(),
        importLlama2c(checkpoint, tokenizer),
        quant,
      );
      const kernels = logitsOf(viaKernels.model, TOKENS);
      const dequantized = logitsOf(viaTs.model, TOKENS);
      expect(worstNmse(kernels, reference)).toBeLessThan(tolerance);
      expect(worstNmse(dequantized, reference)).toBeLessThan(tolerance);
      expect(worstNmse(kernels, dequantized)).toBeLessThan(
        quant === 'q8' || quant === 'q4' ? 3e-4 : 1e-10,
      );
    });
  }

  const stories = loadStories();
  it.skipIf(!stories)(
    'stories260K through an f32 directory generates the golden tokens',
    async () => {
      const { model } = await throughModelDir(
        await createNodeKernels(),
        importLlama2c(stories!.checkpoint, stories!.tokenizer),
        'f32',
      );
      for (const c of stories!.cases.filter((g) => g.temperature === 0)) {
        const ids = model.tokenizer.encode(c.prompt, { bos: true });
        const out = [...ids];
        for await (const t of model.generate(ids, {
          maxTokens: c.steps - ids.length + 1,
          temperature: 0,
          topP: 1,
          stopAtEos: false,
        })) {
          if (t.id === 1) break;
          out.push(t.id);
        }
        expect(out).toEqual(c.token_ids);
      }
    },
  );
});
