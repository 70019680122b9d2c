// llama2.c v0 checkpoints: header, weight layout, and clear errors for damaged files.
import { describe, expect, it } from 'vitest';
import {
  CheckpointError,
  llama2cFloatCount,
  parseLlama2cCheckpoint,
  syntheticLlama2cCheckpoint,
  type SyntheticShape,
} from '../../../engine/index';
import { loadStories } from '../helpers';

const stories = loadStories();
const tiny: SyntheticShape = {
  dim: 16,
  hiddenDim: 40,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 300,
  seqLen: 32,
};

describe('parseLlama2cCheckpoint', () => {
  it.skipIf(!stories)('reads the stories260K header', () => {
    const { config, weights } = parseLlama2cCheckpoint(stories!.checkpoint);
    expect(config).toEqual({
      dim: 64,
      hiddenDim: 172,
      nLayers: 5,
      nHeads: 8,
      nKvHeads: 4,
      vocabSize: 512,
      seqLen: 512,
      headDim: 8,
      ropeTheta: 10000,
      normEps: 1e-5,
      sharedClassifier: true,
    });
    expect(weights.wcls).toBe(weights.tokenEmbedding);
    expect(weights.wk.length).toBe(5 * 32 * 64);
    expect(weights.rmsFinal.length).toBe(64);
  });

  it('lays out a synthetic checkpoint in run.c order, with an unshared classifier', () => {
    const bytes = syntheticLlama2cCheckpoint({ ...tiny, sharedClassifier: false }, 7);
    const { config, weights } = parseLlama2cCheckpoint(bytes);
    expect(config.sharedClassifier).toBe(false);
    expect(config.headDim).toBe(4);
    const body = new Float32Array(bytes.buffer, 28);
    expect(weights.tokenEmbedding[0]).toBe(body[0]);
    expect(weights.wcls.length).toBe(300 * 16);
    expect(weights.wcls[weights.wcls.length - 1]).toBe(body[body.length - 1]);
    // norms ~1, matrices ~0
    expect(Math.abs(weights.rmsAtt[3] - 1)).toBeLessThan(0.11);
    expect(Math.abs(weights.w2[5])).toBeLessThan(0.04);
  });

  it('is deterministic per seed', () => {
    expect(syntheticLlama2cCheckpoint(tiny, 3)).toEqual(syntheticLlama2cCheckpoint(tiny, 3));
    expect(syntheticLlama2cCheckpoint(tiny, 3)).not.toEqual(syntheticLlama2cCheckpoint(tiny, 4));
  });

  it('reads from an unaligned view', () => {
    const bytes = syntheticLlama2cCheckpoint(tiny);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const { weights } = parseLlama2cCheckpoint(shifted.subarray(1));
    expect(weights.rmsFinal).toEqual(parseLlama2cCheckpoint(bytes).weights.rmsFinal);
  });

  it('rejects truncated, padded and malformed files with the reason', () => {
    const bytes = syntheticLlama2cCheckpoint(tiny);
    expect(() => parseLlama2cCheckpoint(bytes.subarray(0, 10))).toThrow(/too short: 10 bytes/);
    expect(() => parseLlama2cCheckpoint(bytes.subarray(0, bytes.length - 4))).toThrow(/truncated/);
    const padded = new Uint8Array(bytes.length + 8);
    padded.set(bytes);
    expect(() => parseLlama2cCheckpoint(padded)).toThrow(/8 unexpected trailing bytes/);
    const badHeads = bytes.slice();
    new DataView(badHeads.buffer).setInt32(12, 3, true); // n_heads 3 does not divide dim 16
    expect(() => parseLlama2cCheckpoint(badHeads)).toThrow(CheckpointError);
    const zeroLayers = bytes.slice();
    new DataView(zeroLayers.buffer).setInt32(8, 0, true);
    expect(() => parseLlama2cCheckpoint(zeroLayers)).toThrow(/nLayers = 0/);
    const ak42 = bytes.slice();
    new DataView(ak42.buffer).setUint32(0, 0x616b3432, true);
    expect(() => parseLlama2cCheckpoint(ak42)).toThrow(/version 1\/2/);
  });

  it('counts floats like run.c', () => {
    const c = parseLlama2cCheckpoint(syntheticLlama2cCheckpoint(tiny)).config;
    expect(28 + llama2cFloatCount(c) * 4).toBe(syntheticLlama2cCheckpoint(tiny).length);
  });
});
