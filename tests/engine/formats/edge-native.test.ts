// The edge-native weights file (engine/formats/edge-native.ts, engine/llama/native-weights.ts): written
// from what the safetensors path placed in memory, it loads to the very same bytes and logits in every
// weight format, whatever the chunking; a damaged, truncated or foreign file is a NativeFormatError
// with a message that says what is wrong, never a crash or a quiet wrong model.
import { describe, expect, it } from 'vitest';
import { llamaConfig, type LlamaConfig } from '../../../engine/llama/config';
import { hfConfigJson } from '../../../engine/formats/hf-config';
import type { QuantTarget } from '../../../engine/formats/hf-writer';
import {
  NativeFormatError,
  WordHash,
  decodeNativeHead,
  encodeNativeHead,
} from '../../../engine/formats/edge-native';
import { encodeNativeWeights } from '../../../engine/llama/native-weights';
import { loadModelDir, type LoadedModel } from '../../../engine/llama/model-dir';
import { createNodeKernels } from '../../../kernels-wasm/node';
import type { KernelBackend } from '../../../kernels-wasm/types';
import { syntheticHfModel } from './hf-reference';
import { logitsOf, throughModelDir } from './helpers';
import { byteLevelTokenizer } from '../tokenizers/fixtures';

const QWEN2: LlamaConfig = {
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
  qkvBias: true,
};
const UNTIED: LlamaConfig = {
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
};
const TOKENS = [5, 200, 17, 17, 260, 3];
const tok = byteLevelTokenizer();

interface Built {
  safetensors: LoadedModel;
  file: Uint8Array;
  config: object;
}

async function build(c: LlamaConfig, arch: 'qwen2' | 'llama', quant: QuantTarget): Promise<Built> {
  const m = syntheticHfModel(c, arch, 7, {
    'tokenizer.json': new TextEncoder().encode(JSON.stringify(tok.tokenizerJson)),
  });
  const k = await createNodeKernels();
  const safetensors = await throughModelDir(k, m, quant);
  const { head, data } = encodeNativeWeights(
    k,
    safetensors.config,
    safetensors.model.memoryImage().weights,
  );
  const file = new Uint8Array(head.length + data.length);
  file.set(head);
  file.set(data, head.length);
  return { safetensors, file, config: hfConfigJson(c, arch, { eosTokenIds: [c.vocabSize - 1] }) };
}

/** The file in pieces of `size` bytes (the last one shorter), the way a stream delivers it. */
async function* chunks(file: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < file.length; at += size) yield file.slice(at, at + size);
}

async function loadNative(
  b: Built,
  file: Uint8Array,
  size = 1 << 16,
  k?: KernelBackend,
): Promise<LoadedModel> {
  return loadModelDir(k ?? (await createNodeKernels()), {
    config: b.config,
    tokenizerJson: tok.tokenizerJson,
    weights: [],
    native: chunks(file, size),
  });
}

describe.each([
  ['qwen2 (bias, tied)', QWEN2, 'qwen2'],
  ['llama (untied head)', UNTIED, 'llama'],
] as const)('%s', (_, c, arch) => {
  for (const quant of ['f32', 'f16', 'q8', 'q4', 'fp8'] as QuantTarget[]) {
    it(`${quant}: the same bytes and bit-identical logits as the safetensors load, any chunking`, async () => {
      const b = await build(c, arch, quant);
      const want = logitsOf(b.safetensors.model, TOKENS);
      for (const size of [7, 4096, b.file.length]) {
        const native = await loadNative(b, b.file, size);
        const image = native.model.memoryImage();
        const again = encodeNativeWeights(image.backend, native.config, image.weights);
        expect(
          Buffer.from(again.data).equals(b.file.subarray(b.file.length - again.data.length)),
        ).toBe(true);
        const got = logitsOf(native.model, TOKENS);
        got.forEach((row, pos) => expect(Array.from(row)).toEqual(Array.from(want[pos])));
      }
    });
  }
});

describe('a file that is not right', () => {
  const built = build(QWEN2, 'qwen2', 'q8');
  const expectError = async (file: Uint8Array, stage: string, message: RegExp) => {
    const b = await built;
    const err = await loadNative(b, file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NativeFormatError);
    expect((err as NativeFormatError).stage).toBe(stage);
    expect((err as Error).message).toMatch(message);
  };
  const dataStart = async () => decodeNativeHead((await built).file)!.dataStart;

  it('one flipped bit in the data: a checksum mismatch', async () => {
    const file = (await built).file.slice();
    file[(await dataStart()) + 1000] ^= 0x10;
    await expectError(file, 'data', /checksum mismatch/);
  });

  it('one flipped bit in the header: a header checksum mismatch, before any allocation', async () => {
    const file = (await built).file.slice();
    file[40] ^= 0x01;
    const k = await createNodeKernels();
    const before = k.bytesUsed;
    await expect(loadNative(await built, file, 1 << 16, k)).rejects.toThrow(/header checksum/);
    expect(k.bytesUsed).toBe(before);
  });

  it('truncated in the data, in the header, or with bytes past its end', async () => {
    const { file } = await built;
    await expectError(file.slice(0, file.length - 100), 'data', /ends after .* data bytes/);
    await expectError(file.slice(0, 30), 'header', /ends inside its header/);
    const longer = new Uint8Array(file.length + 16);
    longer.set(file);
    await expectError(longer, 'data', /runs past its/);
  });

  it('another magic, a newer version, another shape', async () => {
    const { file } = await built;
    await expectError(
      new TextEncoder().encode('{"not": "a model.edge file at all"}'),
      'header',
      /bad magic/,
    );
    const newer = file.slice();
    new DataView(newer.buffer).setUint32(8, 2, true);
    await expectError(newer, 'header', /version 2/);
    const other = decodeNativeHead(file)!;
    const reshaped = withHeader(file, {
      ...other.header,
      shape: { ...other.header.shape, dim: 128 },
    });
    await expectError(reshaped, 'header', /another shape \(dim 128\)/);
  });

  it('a well-formed header whose tensors overlap or run past the data', async () => {
    const { file } = await built;
    const { header } = decodeNativeHead(file)!;
    const [a, b] = header.tensors;
    const overlap = { ...header, tensors: [a, { ...b, data: a.data }, ...header.tensors.slice(2)] };
    await expectError(withHeader(file, overlap), 'header', /overlap/);
    const missing = { ...header, tensors: header.tensors.slice(1) };
    await expectError(withHeader(file, missing), 'header', /lacks 1 tensor/);
    await expectError(withHeader(file, { ...header, data_bytes: 8 }), 'header', /not 16-aligned/);
  });

  it('a header that is not the format: a clear error, not a crash', async () => {
    const { file } = await built;
    const { header } = decodeNativeHead(file)!;
    const bad = { ...header, tensors: [{ ...header.tensors[0], format: 'q3' }] };
    await expectError(withHeader(file, bad as never), 'header', /header tensors\.0\.format/);
  });
});

describe('WordHash', () => {
  it('is the same over any split into whole blocks, and any one changed word changes it', () => {
    const words = Uint32Array.from({ length: 4096 }, (_, i) => Math.imul(i, 2654435761) >>> 0);
    const whole = new WordHash();
    whole.update(words);
    const split = new WordHash();
    split.update(words.subarray(0, 400));
    split.update(words.subarray(400));
    expect(split.hex()).toBe(whole.hex());
    for (const i of [0, 1, 2, 3, 2047, 4095]) {
      const changed = words.slice();
      changed[i] ^= 1 << (i % 32);
      const h = new WordHash();
      h.update(changed);
      expect(h.hex()).not.toBe(whole.hex());
    }
    expect(() => whole.update(words.subarray(0, 3))).toThrow(/whole 16-byte blocks/);
  });
});

/** The same data section under another (well-checksummed) header. */
function withHeader(file: Uint8Array, header: Parameters<typeof encodeNativeHead>[0]): Uint8Array {
  const data = file.subarray(decodeNativeHead(file)!.dataStart);
  const head = encodeNativeHead(header);
  const out = new Uint8Array(head.length + data.length);
  out.set(head);
  out.set(data, head.length);
  return out;
}
