// Helpers for the importer tests: synthetic llama2.c models through a model directory in memory,
// logits per position from any loaded model, and the normalized error between two logit sets.
import { allocSession, forward, type LlamaModel } from '../../../engine/index';
import { safetensorsBytes } from '../../../engine/formats/hf-writer';
import { planModelDir } from '../../../engine/formats/model-dir-writer';
import type { ImportedModel } from '../../../engine/formats/imported-model';
import type { QuantTarget } from '../../../engine/formats/hf-writer';
import { oneChunk } from '../../../engine/formats/safetensors-stream';
import {
  loadModelDir,
  type LoadedModel,
  type ModelDirOptions,
} from '../../../engine/llama/model-dir';
import type { KernelBackend } from '../../../kernels-wasm/types';

/** An imported model written as a directory (in memory) in `quant`, then loaded. */
export async function throughModelDir(
  backend: KernelBackend,
  m: ImportedModel,
  quant: QuantTarget,
  opts: ModelDirOptions = {},
): Promise<LoadedModel & { files: Record<string, Uint8Array> }> {
  const plan = planModelDir(m, quant);
  const files: Record<string, Uint8Array> = {
    ...plan.files,
    'model.safetensors': safetensorsBytes(plan.tensors, plan.metadata),
  };
  const json = (name: string) =>
    files[name] ? JSON.parse(new TextDecoder().decode(files[name])) : undefined;
  const loaded = await loadModelDir(
    backend,
    {
      config: json('config.json'),
      tokenizerJson: json('tokenizer.json'),
      tokenizerBin: files['tokenizer.bin'],
      tokenizerConfig: json('tokenizer_config.json'),
      weights: [oneChunk(files['model.safetensors'])],
    },
    opts,
  );
  return { ...loaded, files };
}

/** Logits after each token of `tokens` (one forward pass per position). */
export function logitsOf(model: LlamaModel, tokens: number[]): Float32Array[] {
  const m = model as unknown as { backend: KernelBackend; weights: Parameters<typeof forward>[2] };
  const session = allocSession(m.backend, model.config);
  return tokens.map((t, pos) =>
    m.backend
      .f32(forward(m.backend, model.config, m.weights, session, t, pos), model.config.vocabSize)
      .slice(),
  );
}
