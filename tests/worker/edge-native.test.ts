// Edge-native weights (model.edge, docs/models.md) in workerd with Miniflare's real R2: a q8 model
// loaded from model.edge answers with the very same tokens and logprobs as from its safetensors,
// through the real Worker; a model.edge that is absent, foreign or damaged falls back to the
// safetensors and still answers the same.
import { env, exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import kernels from '../../kernels-wasm/build/kernels.wasm';
import relaxedKernels from '../../kernels-wasm/build/kernels-relaxed.wasm';
import { createWasmKernels } from '../../kernels-wasm/index';
import { hfManifest } from '../../dispatch/edge-manifest';
import { loadHfEdgeModel } from '../../dispatch/edge-hf';
import { llamaConfig } from '../../engine/llama/config';
import { loadModelDir } from '../../engine/llama/model-dir';
import type { LlamaModel } from '../../engine/llama/model';
import { encodeNativeWeights } from '../../engine/llama/native-weights';
import { planModelDir } from '../../engine/formats/model-dir-writer';
import type { QuantTarget } from '../../engine/formats/hf-writer';
import { decodeNativeHead } from '../../engine/formats/edge-native';
import { safetensorsBytes } from '../../engine/formats/hf-writer';
import { oneChunk } from '../../engine/formats/safetensors-stream';
import { syntheticHfModel } from '../engine/formats/hf-reference';
import { logitsOf } from '../engine/formats/helpers';
import { byteLevelTokenizer } from '../engine/tokenizers/fixtures';
import { provisionKey } from './billing/setup';

const { key } = await provisionKey();
const tok = byteLevelTokenizer();
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const CONFIG = {
  ...llamaConfig({
    dim: 64,
    hiddenDim: 128,
    nLayers: 2,
    nHeads: 4,
    nKvHeads: 2,
    vocabSize: 266,
    seqLen: 128,
  }),
  ropeTheta: 1e6,
  qkvBias: true,
};

let files: Record<string, Uint8Array> = {};

/** The directory's files plus its model.edge, written from what the safetensors load placed in memory. */
async function buildFiles(
  quant: QuantTarget = 'q8',
  module: WebAssembly.Module = kernels,
): Promise<Record<string, Uint8Array>> {
  const m = syntheticHfModel(CONFIG, 'qwen2', 33, {
    'tokenizer.json': enc(tok.tokenizerJson),
    'tokenizer_config.json': enc(tok.tokenizerConfig),
  });
  const plan = planModelDir(m, quant);
  const safetensors = safetensorsBytes(plan.tensors, plan.metadata);
  const json = (name: string) => JSON.parse(new TextDecoder().decode(plan.files[name]));
  const { model, config } = await loadModelDir(await createWasmKernels(module), {
    config: json('config.json'),
    tokenizerJson: json('tokenizer.json'),
    weights: [oneChunk(safetensors)],
  });
  const { backend, weights } = model.memoryImage();
  const { head, data } = encodeNativeWeights(backend, config, weights);
  const edge = new Uint8Array(head.length + data.length);
  edge.set(head);
  edge.set(data, head.length);
  return { ...plan.files, 'model.safetensors': safetensors, 'model.edge': edge };
}

async function putModel(
  id: string,
  edge: Uint8Array | null,
  native: string | null,
  safetensors = files['model.safetensors'],
  dir = files,
) {
  for (const [name, bytes] of Object.entries({ ...dir, 'model.safetensors': safetensors }))
    if (name !== 'model.edge') await env.MODELS.put(`${id}/${name}`, bytes);
  if (edge) await env.MODELS.put(`${id}/model.edge`, edge);
  const manifest = {
    id,
    format: 'hf',
    weights: ['model.safetensors'],
    native,
    tokenizer: 'tokenizer.json',
    tokenizer_config: 'tokenizer_config.json',
    created: 1_700_000_000,
  };
  await env.MODELS.put(`${id}/model.json`, JSON.stringify(manifest));
  return hfManifest.parse(manifest);
}

async function chat(model: string) {
  const res = await exports.default.fetch(
    new Request('http://edge.test/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({
        model,
        messages: [{ role: 'user', content: 'the cat sat' }],
        max_tokens: 12,
        temperature: 0,
        logprobs: true,
        top_logprobs: 3,
      }),
    }),
  );
  expect(res.status).toBe(200);
  const body = (await res.json()) as {
    choices: { message: { content: string }; logprobs: { content: unknown[] } }[];
  };
  return { content: body.choices[0].message.content, logprobs: body.choices[0].logprobs.content };
}

describe('a q8 model with a model.edge in R2', () => {
  beforeAll(async () => {
    files = await buildFiles();
    await putModel('native-off', null, null);
    await putModel('native-on', files['model.edge'], 'model.edge');
    // safetensors that cannot load: an answer proves model.edge alone was read
    await putModel('native-only', files['model.edge'], 'model.edge', new Uint8Array(64));
    await putModel('edge-broken-st', null, null, new Uint8Array(64)); // the control: they cannot
  });

  it('loads model.edge alone, to bit-identical logits at every position', async () => {
    const load = async (id: string) => {
      const m = hfManifest.parse(await (await env.MODELS.get(`${id}/model.json`))!.json());
      return (await loadHfEdgeModel(env.MODELS, m, await createWasmKernels(kernels))).engine;
    };
    const tokens = [1, 40, 200, 7, 7, 90, 260, 3];
    const a = logitsOf((await load('native-off')) as LlamaModel, tokens);
    const b = logitsOf((await load('native-only')) as LlamaModel, tokens);
    await expect(load('edge-broken-st')).rejects.toThrow(/header|stream|safetensors/i);
    expect(b.length).toBe(tokens.length);
    b.forEach((row, pos) => expect(Array.from(row)).toEqual(Array.from(a[pos])));
  });

  it('answers through the Worker with the same tokens and logprobs as from the safetensors', async () => {
    const [off, on] = [await chat('native-off'), await chat('native-on')];
    expect(on.content.length).toBeGreaterThan(0);
    expect(on).toEqual(off);
  });

  it('keys the prompt cache by the weight file read: model.edge and its fallback never share a digest', async () => {
    const m = await putModel('edge-digest', files['model.edge'], 'model.edge');
    const digest = async () =>
      (await loadHfEdgeModel(env.MODELS, m, await createWasmKernels(kernels))).weightsDigest;
    const native = await digest();
    expect(native).toMatch(/^[0-9a-f]{64}$/);
    await env.MODELS.delete('edge-digest/model.edge'); // same manifest: now the fallback is read
    const fallback = await digest();
    expect(fallback).not.toBe(native);
    await env.MODELS.put('edge-digest/model.edge', files['model.edge']); // same bytes, same etag
    expect(await digest()).toBe(native);
  });

  it('falls back to the safetensors when model.edge is absent, foreign or damaged', async () => {
    const want = await chat('native-off');
    const edge = files['model.edge'];
    const damaged = edge.slice();
    damaged[damaged.length - 50] ^= 0x40; // in the data: found by the checksum after it is placed
    const truncated = edge.slice(0, 20); // inside the header: found before anything is allocated
    await putModel('edge-absent', null, 'model.edge');
    await putModel('edge-damaged', damaged, 'model.edge');
    await putModel('edge-truncated', truncated, 'model.edge');
    for (const id of ['edge-absent', 'edge-damaged', 'edge-truncated'])
      expect(await chat(id), id).toEqual(want);
  });
});

describe('a q4 model whose model.edge holds the packed Q4_0 layout (q4x8)', () => {
  let q4: Record<string, Uint8Array> = {};
  beforeAll(async () => {
    // written from the relaxed build's memory, as tools/model-native.ts does in Node 22: packed at load
    q4 = await buildFiles('q4', relaxedKernels);
    await putModel('q4-off', null, null, q4['model.safetensors'], q4);
    await putModel('q4-on', q4['model.edge'], 'model.edge', q4['model.safetensors'], q4);
  });

  it('stores q4x8 tensors, and the Worker answers from them as from the safetensors', async () => {
    const header = decodeNativeHead(q4['model.edge'])!.header;
    const formats = new Set(header.tensors.map((t) => t.format));
    expect(formats.has('q4x8')).toBe(true); // the projections (rows in groups of 8)…
    expect(formats.has('q4')).toBe(true); // …and the 266-row embedding, not packed
    const [off, on] = [await chat('q4-off'), await chat('q4-on')];
    expect(on.content.length).toBeGreaterThan(0);
    expect(on).toEqual(off);
  });

  it("the plain build reads the packed file to the relaxed build's logits", async () => {
    const m = hfManifest.parse(await (await env.MODELS.get('q4-on/model.json'))!.json());
    const tokens = [1, 40, 200, 7, 7, 90, 260, 3];
    const plain = await loadHfEdgeModel(env.MODELS, m, await createWasmKernels(kernels));
    const relaxed = await loadHfEdgeModel(env.MODELS, m, await createWasmKernels(relaxedKernels));
    const a = logitsOf(plain.engine as LlamaModel, tokens);
    const b = logitsOf(relaxed.engine as LlamaModel, tokens);
    b.forEach((row, pos) => expect(Array.from(row)).toEqual(Array.from(a[pos])));
  });
});
