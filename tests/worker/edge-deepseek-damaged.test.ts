// The DeepSeek edge model's files as R2 may hold them, through the real Worker in workerd: a truncated
// model.safetensors is a 503 model_unavailable naming the file (retry-after set), never a 500 or a crash;
// a checkpoint without its MTP layer (config.json still says one) loads, runs without speculation, and
// answers what the full checkpoint answers with MTP off.
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { loadHfEdgeModel } from '../../dispatch/edge-hf';
import { hfManifest } from '../../dispatch/edge-manifest';
import { DeepSeekEdgeModel } from '../../engine/deepseek/edge-model';
import { syntheticDeepSeekEdgeDir } from '../../engine/deepseek/edge-synthetic';
import {
  readSafetensors,
  writeSafetensors,
  type TensorInput,
} from '../../engine/formats/safetensors';
import kernels from '../../kernels-wasm/build/kernels.wasm';
import { createWasmKernels } from '../../kernels-wasm/index';
import { call, provisionKey } from './billing/setup';

const dir = syntheticDeepSeekEdgeDir({ seed: 11 });
const { key } = await provisionKey();

function manifest(id: string, extra: object = {}) {
  return {
    id,
    format: 'hf',
    weights: ['model.safetensors'],
    tokenizer: 'tokenizer.json',
    tokenizer_config: 'tokenizer_config.json',
    context_length: 96,
    created: 1_700_000_000,
    ...extra,
  };
}

async function putDir(id: string, weights: Uint8Array, extra: object = {}) {
  for (const [name, bytes] of Object.entries(dir))
    await env.MODELS.put(`${id}/${name}`, name === 'model.safetensors' ? weights : bytes);
  await env.MODELS.put(`${id}/model.json`, JSON.stringify(manifest(id, extra)));
}

function withoutMtp(bytes: Uint8Array): Uint8Array {
  const out: Record<string, TensorInput> = {};
  for (const [name, t] of readSafetensors(bytes).tensors)
    if (!name.startsWith('model.layers.4.'))
      out[name] = { dtype: t.dtype, shape: t.shape, data: t.bytes };
  expect(Object.keys(out).length).toBeLessThan(readSafetensors(bytes).tensors.size);
  return writeSafetensors(out);
}

const complete = async (model: string) =>
  call('/v1/completions', {
    method: 'POST',
    key,
    body: JSON.stringify({ model, prompt: 'Damaged or not?', max_tokens: 24, temperature: 0 }),
  });

describe('a DeepSeek edge checkpoint with a damaged or missing part', () => {
  it('truncated weights: 503 model_unavailable naming the file', async () => {
    const full = dir['model.safetensors'];
    await putDir('ds-truncated', full.subarray(0, full.byteLength - 4096));
    const res = await complete('ds-truncated');
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    const { error } = (await res.json()) as { error: Record<string, string | null> };
    expect(error).toMatchObject({ type: 'service_unavailable', code: 'model_unavailable' });
    expect(error.message).toMatch(
      /^Model file ds-truncated\/model\.safetensors cannot be loaded: /,
    );
  });

  it('no MTP layer: loads without speculation and answers as the full model with MTP off', async () => {
    await putDir('ds-stripped', withoutMtp(dir['model.safetensors']));
    await putDir('ds-full-off', dir['model.safetensors'], { mtp: false });
    const { engine } = await loadHfEdgeModel(
      env.MODELS,
      hfManifest.parse(manifest('ds-stripped')),
      await createWasmKernels(kernels),
    );
    expect(engine).toBeInstanceOf(DeepSeekEdgeModel);
    expect((engine as DeepSeekEdgeModel).speculative).toBe(false);
    const [stripped, full] = await Promise.all([complete('ds-stripped'), complete('ds-full-off')]);
    expect(stripped.status).toBe(200);
    const text = async (r: Response) =>
      ((await r.json()) as { choices: { text: string }[] }).choices[0].text;
    expect(await text(stripped)).toBe(await text(full));
  });
});
