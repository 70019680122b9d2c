// Loads an edge model stored in R2 as a model directory (format "hf"): the small files are read
// whole, the safetensors weights are streamed from their R2 bodies straight into WASM memory, so a
// model close to the isolate's 128 MB never exists twice. A DeepSeek-V3-architecture directory
// (config.json model_type deepseek_v3) is run by engine/deepseek/edge-model.ts instead: its files are
// read whole (one JS copy, dropped after the load) and placed into WASM memory, FP8 kept as FP8.
// Files that do not load (truncated, damaged, not what config.json says) answer 503 model_unavailable
// with the reason, not a 500; a DeepSeek checkpoint without its MTP layer loads and runs without MTP.
import { kvShapeOf, loadModelDir, toHex, type KvShape } from '../engine/index';
import { ChatTemplate, HfTokenizer } from '../engine/index';
import { isDeepSeekConfig, loadDeepSeekEdge } from '../engine/deepseek/edge-load';
import type { TextEngine } from '../engine/text-engine';
import type { KernelBackend } from '../kernels-wasm/types';
import { DeepSeekConfigError } from '../engine/deepseek/config';
import { DeepSeekLoadError } from '../engine/deepseek/weights';
import { HfConfigError } from '../engine/formats/hf-config';
import { readSafetensors, SafetensorsError } from '../engine/formats/safetensors';
import { ModelLoadError } from '../engine/llama/hf-weights';
import { ApiError } from '../protocol/errors';
import type { HfManifest } from './edge-manifest';

/** Without a manifest context_length: a KV cache per session of at most this many positions (a model's
 * max_position_embeddings, often 32k, would not fit an isolate). */
export const DEFAULT_CONTEXT = 2048;

const missing = (key: string) =>
  new ApiError(
    503,
    `Model file ${key} is missing from storage.`,
    'service_unavailable',
    'model_unavailable',
    null,
    30,
  );

/** Stored files that do not load (damaged, or not what config.json says): a 503 that names why, not a 500. */
const unloadable = (what: string, err: unknown) =>
  new ApiError(
    503,
    `${what} cannot be loaded: ${err instanceof Error ? err.message : String(err)}`,
    'service_unavailable',
    'model_unavailable',
    null,
    30,
  );

/** Errors of the files themselves, as opposed to bugs (which stay 500s with a logged stack). */
const isLoadError = (err: unknown) =>
  err instanceof SafetensorsError ||
  err instanceof DeepSeekLoadError ||
  err instanceof DeepSeekConfigError ||
  err instanceof ModelLoadError ||
  err instanceof HfConfigError;

async function guarded<T>(id: string, load: () => T | Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    throw isLoadError(err) ? unloadable(`Model '${id}'`, err) : err;
  }
}

async function object(bucket: R2Bucket, key: string): Promise<R2ObjectBody> {
  const found = await bucket.get(key);
  if (!found) throw missing(key);
  return found;
}

async function json(bucket: R2Bucket, key: string | null | undefined): Promise<object | undefined> {
  return key ? ((await object(bucket, key)).json() as Promise<object>) : undefined;
}

export interface HfEdgeModel {
  engine: TextEngine;
  /** Null: the plain template (engine/chat-template.ts). */
  chatTemplate: ChatTemplate | null;
  /** Hex SHA-256 over the manifest and the weight files' etags: stands for the weights' content. */
  weightsDigest: string;
  /** The prompt cache's row shape; null where the engine has no prompt cache (DeepSeek). */
  kvShape: KvShape | null;
}

async function digestOf(m: HfManifest, bodies: R2ObjectBody[]): Promise<string> {
  const stamp = new TextEncoder().encode(
    JSON.stringify({ manifest: m, etags: bodies.map((b) => b.etag) }),
  );
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', stamp)));
}

export async function loadHfEdgeModel(
  bucket: R2Bucket,
  m: HfManifest,
  backend: KernelBackend,
): Promise<HfEdgeModel> {
  const key = (name: string) => `${m.id}/${name}`;
  const isBin = m.tokenizer.endsWith('.bin');
  const [config, tokenizerConfig, generationConfig, tokenizer, draftVocab] = await Promise.all([
    json(bucket, key(m.config)),
    json(bucket, m.tokenizer_config && key(m.tokenizer_config)),
    json(bucket, m.generation_config && key(m.generation_config)),
    object(bucket, key(m.tokenizer)).then((o) => (isBin ? o.arrayBuffer() : o.json())),
    json(bucket, m.draft_vocab && key(m.draft_vocab)),
  ]);
  const bodies = await Promise.all(m.weights.map((w) => object(bucket, key(w))));
  if (isDeepSeekConfig(config) && !isBin) {
    const weights = await Promise.all(
      bodies.map(async (b) => new Uint8Array(await b.arrayBuffer())),
    );
    weights.forEach((w, i) => {
      try {
        readSafetensors(w);
      } catch (err) {
        throw unloadable(`Model file ${key(m.weights[i])}`, err);
      }
    });
    const ds = await guarded(m.id, () =>
      loadDeepSeekEdge(
        backend,
        {
          config: config as object,
          tokenizerJson: tokenizer as object,
          tokenizerConfig,
          generationConfig,
          draftVocab,
          weights,
        },
        { id: m.id, contextLength: m.context_length ?? undefined, mtp: m.mtp ?? true },
      ),
    );
    const chatTemplate = m.chat_template
      ? new ChatTemplate(m.chat_template, ds.tokenizer.specialTokens)
      : ds.chatTemplate;
    return {
      engine: ds.engine,
      chatTemplate,
      weightsDigest: await digestOf(m, bodies),
      kvShape: null,
    };
  }
  const loaded = await guarded(m.id, () =>
    loadModelDir(
      backend,
      {
        config,
        tokenizerConfig,
        generationConfig,
        ...(isBin
          ? { tokenizerBin: new Uint8Array(tokenizer as ArrayBuffer) }
          : { tokenizerJson: tokenizer as object }),
        weights: bodies.map((b) => b.body),
      },
      {
        id: m.id,
        contextLength: m.context_length ?? DEFAULT_CONTEXT,
        maxSessions: m.max_sessions ?? undefined,
      },
    ),
  );
  const tok = loaded.model.tokenizer;
  const specials =
    tok instanceof HfTokenizer ? tok.specialTokens : { bos_token: '<s>', eos_token: '</s>' };
  const chatTemplate = m.chat_template
    ? new ChatTemplate(m.chat_template, specials)
    : loaded.chatTemplate;
  return {
    engine: loaded.model,
    chatTemplate,
    weightsDigest: await digestOf(m, bodies),
    kvShape: kvShapeOf(loaded.model.config),
  };
}
