// A model directory (DESIGN.md "Model files") → a LlamaModel: config.json, the tokenizer
// (tokenizer.json + tokenizer_config.json, or llama2.c's tokenizer.bin), the chat template, and the
// weights streamed into backend memory (safetensors, converted on the way; or an edge-native file,
// copied as it lies). The same code serves R2 (the Worker) and disk (Node).
import type { KernelBackend } from '../../kernels-wasm/types';
import { parseHfConfig, type HfModelConfig } from '../formats/hf-config';
import type { ChunkSource } from '../formats/safetensors-stream';
import { loadHfWeights } from './hf-weights';
import { loadNativeWeights } from './native-weights';
import { packWeights } from './packed';
import { LlamaModel, type LlamaModelOptions } from './model';
import { Llama2cTokenizer } from '../tokenizers/llama2c-tokenizer';
import { ChatTemplate, chatTemplateSource } from '../tokenizers/chat-template';
import { HfTokenizer } from '../tokenizers/hf-tokenizer';
import type { TextTokenizer } from '../tokenizers/types';

export interface ModelDirFiles {
  /** config.json, parsed. */
  config: unknown;
  tokenizerJson?: object;
  /** llama2.c tokenizer.bin (models imported from llama2.c). */
  tokenizerBin?: Uint8Array;
  tokenizerConfig?: object;
  generationConfig?: object;
  /** One stream per safetensors file. */
  weights: ChunkSource[];
  /** An edge-native weights file (native-weights.ts): when given, the weights come from it instead. */
  native?: ChunkSource;
}

export interface ModelDirOptions extends LlamaModelOptions {
  /** Cap on the context (each session's KV cache holds this many positions). */
  contextLength?: number;
}

export interface LoadedModel {
  model: LlamaModel;
  config: HfModelConfig;
  /** Null: the plain template (engine/chat-template.ts). */
  chatTemplate: ChatTemplate | null;
}

export async function loadModelDir(
  backend: KernelBackend,
  files: ModelDirFiles,
  opts: ModelDirOptions = {},
): Promise<LoadedModel> {
  const config = parseHfConfig(files.config, opts.contextLength);
  const tokenizer = makeTokenizer(files, config);
  const weights = files.native
    ? await loadNativeWeights(backend, config, files.native)
    : await loadHfWeights(backend, config, files.weights);
  packWeights(backend, weights);
  const model = LlamaModel.fromWeights(backend, config, tokenizer, weights, opts);
  const source = chatTemplateSource(files.tokenizerConfig);
  const specials =
    tokenizer instanceof HfTokenizer
      ? tokenizer.specialTokens
      : { bos_token: '<s>', eos_token: '</s>' };
  return { model, config, chatTemplate: source ? new ChatTemplate(source, specials) : null };
}

function makeTokenizer(files: ModelDirFiles, config: HfModelConfig): TextTokenizer {
  if (files.tokenizerBin) return Llama2cTokenizer.fromBytes(files.tokenizerBin, config.vocabSize);
  if (!files.tokenizerJson)
    throw new Error('the model directory has neither tokenizer.json nor tokenizer.bin');
  const generationEos = (files.generationConfig as { eos_token_id?: unknown } | undefined)
    ?.eos_token_id;
  const stopIds = [
    ...config.eosTokenIds,
    ...(typeof generationEos === 'number'
      ? [generationEos]
      : Array.isArray(generationEos)
        ? generationEos
        : []),
  ];
  return new HfTokenizer(files.tokenizerJson, files.tokenizerConfig ?? {}, {
    vocabSize: config.vocabSize,
    stopIds,
  });
}
