// Loads an edge model stored in R2 as a model directory (format "hf"): the small files are read
// whole, the safetensors weights are streamed from their R2 bodies straight into WASM memory, so a
// model close to the isolate's 128 MB never exists twice. A DeepSeek-V3-architecture directory
// (config.json model_type deepseek_v3) is run by engine/deepseek/edge-model.ts instead: its files are
// read whole (one JS copy, dropped after the load) and placed into WASM memory, FP8 kept as FP8.
import { kvShapeOf, loadModelDir, toHex, type KvShape } from '../engine/index';
import { ChatTemplate, HfTokenizer } from '../engine/index';
import { latentShapeOf } from '../engine/deepseek/edge-cache';
import { isDeepSeekConfig, loadDeepSeekEdge } from '../engine/deepseek/edge-load';
import type { LatentShape } from '../engine/prompt-cache/latent-rows';
import { checkpointDigest } from './checkpoint-digest';
import type { TextEngine } from '../engine/text-engine';
import type { KernelBackend } from '../kernels-wasm/types';
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
  const [configBytes, tokenizerConfig, generationConfig, tokenizer] = await Promise.all([
    object(bucket, key(m.config)).then(async (o) => new Uint8Array(await o.arrayBuffer())),
    json(bucket, m.tokenizer_config && key(m.tokenizer_config)),
    json(bucket, m.generation_config && key(m.generation_config)),
    object(bucket, key(m.tokenizer)).then((o) => (isBin ? o.arrayBuffer() : o.json())),
  ]);
  const config = JSON.parse(new TextDecoder().decode(configBytes)) as object;
  const bodies = await Promise.all(m.weights.map((w) => object(bucket, key(w))));
  if (isDeepSeekConfig(config) && !isBin) {
    const weights = await Promise.all(
      bodies.map(async (b) => new Uint8Array(await b.arrayBuffer())),
    );
    const ds = loadDeepSeekEdge(
      backend,
      {
        config: config as object,
        tokenizerJson: tokenizer as object,
        tokenizerConfig,
        generationConfig,
        weights,
      },
      { id: m.id, contextLength: m.context_length ?? undefined, mtp: m.mtp ?? true },
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
  const loaded = await loadModelDir(
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
      maxQueue: m.max_queue ?? undefined,
      decodeBatch: m.decode_batch ?? undefined,
    },
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
    latentShape: null,
  };
}
