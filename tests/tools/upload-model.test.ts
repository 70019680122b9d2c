// tools/upload-model.ts: the manifest's context_length is the checkpoint header's seq_len.
import { describe, expect, it } from 'vitest';
import { syntheticLlama2cCheckpoint } from '../../engine/index';
import { llama2cContext } from '../../tools/upload-model';

describe('llama2cContext', () => {
  it("reads seq_len from a llama2.c checkpoint's header", () => {
    for (const seqLen of [32, 512, 1024]) {
      const shape = {
        dim: 8,
        hiddenDim: 16,
        nLayers: 1,
        nHeads: 2,
        nKvHeads: 2,
        vocabSize: 32,
        seqLen,
      };
      expect(llama2cContext(syntheticLlama2cCheckpoint(shape, 1))).toBe(seqLen);
    }
  });

  it('gives null for a file too short to hold a header, or a non-positive seq_len', () => {
    expect(llama2cContext(new Uint8Array(20))).toBeNull();
    expect(llama2cContext(new Uint8Array(28))).toBeNull();
  });
});
