// Room: engine/deepseek (edge). Builds the edge DeepSeek model from a model directory in DeepSeek-V3's
// HF layout (config.json model_type deepseek_v3, FP8 safetensors with weight_scale_inv, tokenizer.json +
// tokenizer_config.json): the weights are placed into WASM memory (FP8 stays FP8), the MTP module too
// when the checkpoint has one, and the tokenizer and chat template come from the directory's files.
import type { KernelBackend } from '../../kernels-wasm/types';
import { ChatTemplate, chatTemplateSource } from '../tokenizers/chat-template';
import { HfTokenizer } from '../tokenizers/hf-tokenizer';
import { DRAFT_VOCAB_FILE } from './draft-vocab';
import { DeepSeekEdgeModel } from './edge-model';
import { WasmDeepSeekModel } from './wasm-model';

/** A config.json naming the DeepSeek-V3 architecture (V3, and V2's MLA + MoE with the same names). */
export const isDeepSeekConfig = (config: unknown): boolean => {
  const type = (config as { model_type?: unknown } | null)?.model_type;
  return type === 'deepseek_v3' || type === 'deepseek_v2';
};

export interface DeepSeekDirFiles {
  /** config.json, parsed. */
  config: object;
  tokenizerJson: object;
  tokenizerConfig?: object;
  generationConfig?: object;
  /** draft_vocab.json: the ids the MTP draft's head scores (draft-vocab.ts). */
  draftVocab?: object;
  /** The safetensors files' bytes (read once; the caller drops them after the load). */
  weights: Uint8Array[];
}

export interface DeepSeekEdgeLoadOptions {
  id?: string;
  /** Positions the latent cache holds (default min(max_position_embeddings, 2048)). */
  contextLength?: number;
  /** Place the MTP module (when the checkpoint has one) and speculate with it (default true). */
  mtp?: boolean;
}

export interface LoadedDeepSeek {
  engine: DeepSeekEdgeModel;
  tokenizer: HfTokenizer;
  chatTemplate: ChatTemplate | null;
  /** Bytes of WASM linear memory the model holds (weights, latent caches, step buffers). */
  wasmBytes: number;
}

/** Most tokens one step takes: prefill chunks; small, since each token's activations are in WASM memory. */
const EDGE_MAX_BATCH = 16;

export function loadDeepSeekEdge(
  backend: KernelBackend,
  files: DeepSeekDirFiles,
  opts: DeepSeekEdgeLoadOptions = {},
): LoadedDeepSeek {
  const enc = new TextEncoder();
  const record: Record<string, Uint8Array> = {
    'config.json': enc.encode(JSON.stringify(files.config)),
  };
  files.weights.forEach((w, i) => (record[`weights-${i}.safetensors`] = w));
  if (files.draftVocab) record[DRAFT_VOCAB_FILE] = enc.encode(JSON.stringify(files.draftVocab));
  const maxPos = (files.config as { max_position_embeddings?: number }).max_position_embeddings;
  const model = new WasmDeepSeekModel(backend, record, {
    maxSeqLen: opts.contextLength ?? Math.min(maxPos ?? 2048, 2048),
    maxBatch: EDGE_MAX_BATCH,
    maxSlots: 1,
    maxLogitRows: 2, // [last token, draft] when verifying eagerly; one row otherwise
    mtp: opts.mtp ?? true,
  });
  const c = model.config;
  const generationEos = (files.generationConfig as { eos_token_id?: unknown } | undefined)
    ?.eos_token_id;
  const stopIds = [
    ...(c.eosTokenId === null ? [] : [c.eosTokenId]),
    ...(typeof generationEos === 'number' ? [generationEos] : []),
  ];
  const tokenizer = new HfTokenizer(files.tokenizerJson, files.tokenizerConfig ?? {}, {
    vocabSize: c.vocabSize,
    stopIds,
  });
  const source = chatTemplateSource(files.tokenizerConfig);
  return {
    engine: new DeepSeekEdgeModel(model, tokenizer, { id: opts.id }),
    tokenizer,
    chatTemplate: source ? new ChatTemplate(source, tokenizer.specialTokens) : null,
    wasmBytes: backend.bytesUsed,
  };
}
