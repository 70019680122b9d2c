// HF model directories: Qwen2 (qkv bias, tied, GQA, theta 1e6) and Llama (untied, Llama 3 rope
// scaling) against an independent float64 transformers-style forward; F32/F16/BF16 sources; then
// through the HF importer into every quantized format.
import { describe, expect, it } from 'vitest';
import { llamaConfig } from '../../../engine/llama/config';
import { importHfDir } from '../../../engine/formats/import-hf';
import { planOutput, safetensorsBytes, type QuantTarget } from '../../../engine/formats/hf-writer';
import { oneChunk } from '../../../engine/formats/safetensors-stream';
import { loadModelDir } from '../../../engine/llama/model-dir';
import { createNodeKernels } from '../../../kernels-wasm/node';
import { byteLevelTokenizer } from '../tokenizers/fixtures';
import { hfConfigOf, hfReferenceLogits, syntheticHfModel } from './hf-reference';
import { logitsOf, throughModelDir } from './helpers';
import { worstNmse } from '../../ops/nmse';

const TOKENS = [5, 200, 17, 17, 260, 3];
const QWEN2 = {
  ...llamaConfig({
    dim: 64,
    hiddenDim: 96,
    nLayers: 2,
    nHeads: 4,
    nKvHeads: 2,
    vocabSize: 266,
    seqLen: 32,
  }),
  ropeTheta: 1e6,
  normEps: 1e-6,
  qkvBias: true,
};
const LLAMA3 = {
  ...llamaConfig({
    dim: 64,
    hiddenDim: 128,
    nLayers: 2,
    nHeads: 8,
    nKvHeads: 2,
    vocabSize: 266,
    seqLen: 32,
    sharedClassifier: false,
  }),
  ropeTheta: 500000,
  ropeScaling: {
    type: 'llama3' as const,
    factor: 32,
    lowFreqFactor: 1,
    highFreqFactor: 4,
    originalMaxPositionEmbeddings: 8,
  },
};
const tok = byteLevelTokenizer();
const tokenizerFiles = () => ({
  'tokenizer.json': new TextEncoder().encode(JSON.stringify(tok.tokenizerJson)),
  'tokenizer_config.json': new TextEncoder().encode(JSON.stringify(tok.tokenizerConfig)),
});

describe.each([
  ['qwen2', QWEN2, 'qwen2'],
  ['llama (llama3 rope, untied)', LLAMA3, 'llama'],
] as const)('%s', (_, config, arch) => {
  const m = syntheticHfModel(config, arch, 11, tokenizerFiles());
  const reference = hfReferenceLogits(m, TOKENS);
  const toF32 = (xs: Float64Array[]) => xs.map((x) => Float32Array.from(x));

  for (const [dtype, tolerance] of [
    ['f32', 1e-11],
    ['f16', 1e-6],
    ['bf16', 1e-4],
  ] as const) {
    it(`a ${dtype.toUpperCase()} directory loads and matches the reference forward (nmse < ${tolerance})`, async () => {
      // an F32/F16 file is what planOutput writes; BF16 is written by hand below
      const tensors = dtype === 'bf16' ? bf16Plan(m) : planOutput(m.tensors, dtype);
      const loaded = await loadModelDir(await createNodeKernels(), {
        config: hfConfigOf(m),
        tokenizerJson: tok.tokenizerJson,
        tokenizerConfig: tok.tokenizerConfig,
        weights: [oneChunk(safetensorsBytes(tensors))],
      });
      expect(loaded.chatTemplate).not.toBeNull();
      expect(worstNmse(logitsOf(loaded.model, TOKENS), toF32(reference))).toBeLessThan(tolerance);
    });
  }

  for (const [quant, tolerance] of [
    ['f32', 1e-11],
    ['f16', 1e-6],
    ['q8', 1e-3],
    ['q4', 5e-2],
    ['fp8', 1e-2],
  ] as [QuantTarget, number][]) {
    it(`through the HF importer as ${quant} (nmse < ${tolerance})`, async () => {
      const dir = await throughModelDir(await createNodeKernels(), m, 'f32');
      const imported = importHfDir(
        JSON.parse(new TextDecoder().decode(dir.files['config.json'])),
        [dir.files['model.safetensors']],
        dir.files,
      );
      const { model, config: c } = await throughModelDir(
        await createNodeKernels(),
        imported,
        quant,
      );
      expect(c.qkvBias).toBe(arch === 'qwen2');
      expect(worstNmse(logitsOf(model, TOKENS), toF32(reference))).toBeLessThan(tolerance);
    });
  }
});

/** The F32 plan with every tensor stored as BF16. */
function bf16Plan(m: ReturnType<typeof syntheticHfModel>) {
  return planOutput(m.tensors, 'f32').map((t) => ({
    ...t,
    dtype: 'BF16' as const,
    byteLength: t.byteLength / 2,
    encode: () => {
      const f = new Uint32Array(t.encode().slice().buffer);
      return new Uint8Array(
        Uint16Array.from(f, (u) => (u + 0x7fff + ((u >>> 16) & 1)) >>> 16).buffer,
      );
    },
  }));
}
