// Loads an edge model stored in R2 as a model directory (format "hf"): the small files are read
// whole, the weights are streamed from their R2 bodies straight into WASM memory, so a model close to
// the isolate's 128 MB never exists twice: an edge-native file (manifest `native`, bytes copied to
// their final place) when there is one, else the safetensors (converted on the way). A
// DeepSeek-V3-architecture directory (config.json model_type deepseek_v3) is run by
// engine/deepseek/edge-model.ts instead: its files are read whole (one JS copy, dropped after the
// load) and placed into WASM memory, FP8 kept as FP8.
// Files that do not load (truncated, damaged, not what config.json says) answer 503 model_unavailable
// with the reason, not a 500; a DeepSeek checkpoint without its MTP layer loads and runs without MTP.
import { kvShapeOf, loadModelDir, toHex, type KvShape } from '../engine/index';
import type { LoadedModel, ModelDirFiles } from '../engine/llama/model-dir';
import { NativeFormatError } from '../engine/formats/edge-native';
import { ChatTemplate, HfTokenizer } from '../engine/index';
import { latentShapeOf } from '../engine/deepseek/edge-cache';
import { isDeepSeekConfig, loadDeepSeekEdge } from '../engine/deepseek/edge-load';
import type { LatentShape } from '../engine/prompt-cache/latent-rows';
import { checkpointDigest } from './checkpoint-digest';
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
  /**
   * Hex SHA-256 over the manifest and the weight files' etags: stands for the weights' content. A
   * DeepSeek model's is its files' own (checkpoint-digest.ts), the digest its origins report.
   */
  weightsDigest: string;
  /** The prompt cache's GQA row shape; null for an MLA model (DeepSeek), whose entries are latent. */
  kvShape: KvShape | null;
  /** An MLA model's latent row shape (its prompt-cache entries); null for a GQA model. */
  latentShape: LatentShape | null;
}

/**
 * Over the etags of the weight files read (model.edge's alone, or the safetensors'): an isolate that
 * fell back has another digest, so its prompt-cache entries miss, never mix. (No HEADs for the
 * safetensors' etags beside a model.edge stream: see the request for it below.)
 */
async function digestOf(m: HfManifest, etags: string[]): Promise<string> {
  const stamp = new TextEncoder().encode(JSON.stringify({ manifest: m, etags }));
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', stamp)));
}

export async function loadHfEdgeModel(
  bucket: R2Bucket,
  m: HfManifest,
  backend: KernelBackend,
  /** A new backend for the safetensors fallback when a damaged edge-native file already filled this one. */
  fresh?: () => Promise<KernelBackend>,
): Promise<HfEdgeModel> {
  const key = (name: string) => `${m.id}/${name}`;
  const isBin = m.tokenizer.endsWith('.bin');
  const [configBytes, tokenizerConfig, generationConfig, tokenizer, draftVocab] = await Promise.all(
    [
      object(bucket, key(m.config)).then(async (o) => new Uint8Array(await o.arrayBuffer())),
      json(bucket, m.tokenizer_config && key(m.tokenizer_config)),
      json(bucket, m.generation_config && key(m.generation_config)),
      object(bucket, key(m.tokenizer)).then((o) => (isBin ? o.arrayBuffer() : o.json())),
      json(bucket, m.draft_vocab && key(m.draft_vocab)),
    ],
  );
  const config = JSON.parse(new TextDecoder().decode(configBytes)) as object;
  if (isDeepSeekConfig(config) && !isBin) {
    const bodies = await Promise.all(m.weights.map((w) => object(bucket, key(w))));
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
    const files: Record<string, Uint8Array> = { [m.config]: configBytes };
    m.weights.forEach((w, i) => (files[w] = weights[i]));
    return {
      engine: ds.engine,
      chatTemplate,
      weightsDigest: await checkpointDigest(files),
      kvShape: null,
      latentShape: latentShapeOf(ds.engine.model),
    };
  }
  const files = {
    config,
    tokenizerConfig,
    generationConfig,
    ...(isBin
      ? { tokenizerBin: new Uint8Array(tokenizer as ArrayBuffer) }
      : { tokenizerJson: tokenizer as object }),
  };
  // asked for once the small files are in, and alone: asked for beside them (plus HEADs of the
  // safetensors), its body waited unread in Miniflare's 4 KiB chunks; bench/cold-start.ts load
  // median 357 ms, 2 of 7 samples 2.7-2.9 s, against 214 ms now
  const native = m.native ? await bucket.get(key(m.native)) : null;
  const { loaded, etags } = await guarded(m.id, () =>
    loadLlamaWeights(bucket, m, files, backend, { native, fresh }),
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
    weightsDigest: await digestOf(m, etags),
    kvShape: kvShapeOf(loaded.model.config),
    latentShape: null,
  };
}

type DirFiles = Omit<ModelDirFiles, 'weights' | 'native'>;

/**
 * The edge-native file when the manifest names one (bytes copied into place), else the safetensors
 * (converted on the way). A native file that is absent, for another shape or damaged is logged and the
 * safetensors are loaded instead: the native layout is an optimization, never the only copy.
 */
async function loadLlamaWeights(
  bucket: R2Bucket,
  m: HfManifest,
  files: DirFiles,
  backend: KernelBackend,
  { native, fresh }: { native: R2ObjectBody | null; fresh?: () => Promise<KernelBackend> },
): Promise<{ loaded: LoadedModel; etags: string[] }> {
  const key = (name: string) => `${m.id}/${name}`;
  const opts = {
    id: m.id,
    contextLength: m.context_length ?? DEFAULT_CONTEXT,
    maxSessions: m.max_sessions ?? undefined,
    maxQueue: m.max_queue ?? undefined,
    decodeBatch: m.decode_batch ?? undefined,
  };
  if (native) {
    try {
      const loaded = await loadModelDir(
        backend,
        { ...files, weights: [], native: native.body },
        opts,
      );
      return { loaded, etags: [native.etag] };
    } catch (err) {
      if (!(err instanceof NativeFormatError)) throw err;
      await native.body.cancel().catch(() => {});
      console.warn(`${key(m.native!)}: ${err.message}; loading the safetensors instead`);
      if (err.stage === 'data') {
        if (!fresh) throw damaged(key(m.native!), err.message);
        backend = await fresh();
      }
    }
  }
  const bodies = await Promise.all(m.weights.map((w) => object(bucket, key(w))));
  const loaded = await loadModelDir(
    backend,
    { ...files, weights: bodies.map((b) => b.body) },
    opts,
  );
  return { loaded, etags: bodies.map((b) => b.etag) };
}

const damaged = (key: string, why: string) =>
  new ApiError(
    503,
    `Model file ${key} is damaged: ${why}.`,
    'service_unavailable',
    'model_unavailable',
    null,
    30,
  );
