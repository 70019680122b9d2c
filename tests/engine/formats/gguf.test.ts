// GGUF: synthetic models exported as llama.cpp writes them (F32, F16, Q8_0, Q4_0; llama with a
// SentencePiece tokenizer, qwen2 with a byte-level BPE one), parsed by @huggingface/gguf, imported:
// F32 is exact, Q8_0/Q4_0 import without loss (the same codes as quantizing the original ourselves).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { describe, expect, it } from 'vitest';
import {
  LlamaModel,
  llamaConfig,
  syntheticLlama2cCheckpoint,
  syntheticLlama2cTokenizer,
} from '../../../engine/index';
import { exportGguf, importGguf, type GgufExportType } from '../../../engine/formats/gguf-model';
import {
  ggufTokenizerFromJson,
  ggufTokenizerFromLlama2c,
} from '../../../engine/formats/gguf-tokenizer';
import { importLlama2c } from '../../../engine/formats/import-llama2c';
import type { QuantTarget } from '../../../engine/formats/hf-writer';
import { HfTokenizer } from '../../../engine/tokenizers/hf-tokenizer';
import { createNodeKernels } from '../../../kernels-wasm/node';
import { byteLevelTokenizer } from '../tokenizers/fixtures';
import { syntheticHfModel } from './hf-reference';
import { logitsOf, throughModelDir } from './helpers';
import { worstNmse } from '../../ops/nmse';

const dir = mkdtempSync(join(tmpdir(), 'gguf-test-'));

async function parse(bytes: Uint8Array, name: string) {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const header = await gguf(path, { allowLocalFile: true });
  const file = readFileSync(path);
  return importGguf(header as never, (offset, length) => file.subarray(offset, offset + length));
}

const TOKENS = [1, 300, 45, 260, 7, 7, 100];
const OURS: Record<GgufExportType, QuantTarget> = {
  f32: 'f32',
  f16: 'f16',
  q8_0: 'q8',
  q4_0: 'q4',
};

describe('GGUF llama (llama2.c weights, SentencePiece tokenizer)', () => {
  const shape = {
    dim: 64,
    hiddenDim: 160,
    nLayers: 2,
    nHeads: 4,
    nKvHeads: 2,
    vocabSize: 320,
    seqLen: 32,
  };
  const checkpoint = syntheticLlama2cCheckpoint(shape, 9);
  const tokenizer = syntheticLlama2cTokenizer(shape.vocabSize);
  const original = importLlama2c(checkpoint, tokenizer);

  for (const type of ['f32', 'f16', 'q8_0', 'q4_0'] as const) {
    it(`${type}: the same logits as the original converted to ${OURS[type]} directly`, async () => {
      const imported = await parse(
        exportGguf(original, type, ggufTokenizerFromLlama2c(tokenizer, shape.vocabSize)),
        `llama-${type}.gguf`,
      );
      expect(imported.config).toMatchObject({
        dim: 64,
        nKvHeads: 2,
        sharedClassifier: true,
        vocabSize: 320,
      });
      const viaGguf = await throughModelDir(await createNodeKernels(), imported, OURS[type]);
      const direct = await throughModelDir(await createNodeKernels(), original, OURS[type]);
      expect(logitsOf(viaGguf.model, TOKENS)).toEqual(logitsOf(direct.model, TOKENS));
      // the tokenizer came back from GGUF metadata as a tokenizer.bin that encodes the same ids
      const text = 'Once upon a time, the little dog played in the park.';
      expect(viaGguf.model.tokenizer.encode(text)).toEqual(direct.model.tokenizer.encode(text));
    });
  }

  it('f32 is exactly the llama2.c model', async () => {
    const imported = await parse(
      exportGguf(original, 'f32', ggufTokenizerFromLlama2c(tokenizer, shape.vocabSize)),
      'llama-exact.gguf',
    );
    const { model } = await throughModelDir(await createNodeKernels(), imported, 'f32');
    expect(logitsOf(model, TOKENS)).toEqual(
      logitsOf(LlamaModel.fromLlama2c(await createNodeKernels(), checkpoint, tokenizer), TOKENS),
    );
  });
});

describe('GGUF qwen2 (qkv bias, byte-level BPE tokenizer, chat template)', () => {
  const tok = byteLevelTokenizer();
  const c = {
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
  const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  const original = syntheticHfModel(c, 'qwen2', 4, {
    'tokenizer.json': enc(tok.tokenizerJson),
    'tokenizer_config.json': enc(tok.tokenizerConfig),
  });
  const metadata = ggufTokenizerFromJson(tok.tokenizerJson as never, tok.tokenizerConfig, 'qwen2');

  for (const type of ['f32', 'q8_0', 'q4_0'] as const) {
    it(`${type}: the same logits as converting the original directly`, async () => {
      const imported = await parse(exportGguf(original, type, metadata), `qwen2-${type}.gguf`);
      expect(imported.architecture).toBe('qwen2');
      const viaGguf = await throughModelDir(await createNodeKernels(), imported, OURS[type]);
      const direct = await throughModelDir(await createNodeKernels(), original, OURS[type]);
      const [a, b] = [
        logitsOf(viaGguf.model, [5, 200, 17, 17, 3]),
        logitsOf(direct.model, [5, 200, 17, 17, 3]),
      ];
      expect(worstNmse(a, b)).toBe(0);
      expect(viaGguf.chatTemplate).not.toBeNull();
    });
  }

  it('the tokenizer.json rebuilt from GGUF metadata encodes like the original', async () => {
    const imported = await parse(exportGguf(original, 'f32', metadata), 'qwen2-tok.gguf');
    const rebuilt = JSON.parse(new TextDecoder().decode(imported.files['tokenizer.json']));
    const config = JSON.parse(new TextDecoder().decode(imported.files['tokenizer_config.json']));
    const a = new HfTokenizer(rebuilt, config);
    const b = new HfTokenizer(tok.tokenizerJson, tok.tokenizerConfig);
    for (const text of ['the cat', '<|im_start|>user\nthe cat sat<|im_end|>\n', 'héllo 123 wörld'])
      expect(a.encode(text)).toEqual(b.encode(text));
    expect(a.stopIds).toEqual(b.stopIds);
  });
});
