// Edge models: listed from R2, loaded into WASM memory once per isolate and kept there.
import { WORKER_RELAXED, createWasmKernels } from '../kernels-wasm/index';
import { kvShapeOf, LlamaModel, weightsDigest, type KvShape } from '../engine/index';
import type { TextEngine } from '../engine/text-engine';
import { ApiError, modelNotFound } from '../protocol/errors';
import { edgeManifest, manifestKey, type EdgeManifest } from './edge-manifest';
import { loadHfEdgeModel } from './edge-hf';
import type { ChatTemplate } from '../engine/index';
import type { LatentShape } from '../engine/prompt-cache/latent-rows';
import { PromptCache } from './prompt-cache';

export interface EdgeModel {
  manifest: EdgeManifest;
  /** Llama (engine/llama/model.ts) or DeepSeek-V3 (engine/deepseek/edge-model.ts): the routes see the interface. */
  engine: TextEngine;
  /** The model's Jinja chat template; absent or null: the plain template. */
  chatTemplate?: ChatTemplate | null;
  /** Hex SHA-256 of the checkpoint: prompt-cache entries of other weights never match. */
  weightsDigest: string;
  /** This model's prompt cache in this isolate (it remembers its recent writes). */
  promptCache: PromptCache;
  /** The prompt cache's GQA row shape; null for an MLA engine (DeepSeek). */
  kvShape: KvShape | null;
  /** An MLA engine's latent row shape (dispatch/latent-cache.ts); null for a GQA engine. */
  latentShape: LatentShape | null;
}

export class EdgeRegistry {
  /** One load per model per isolate; concurrent requests share the same promise. */
  private readonly loads = new Map<string, Promise<EdgeModel>>();

  constructor(private readonly kernels: WebAssembly.Module) {}

  async list(bucket: R2Bucket): Promise<EdgeManifest[]> {
    const listing = await bucket.list({ delimiter: '/' });
    const ids = listing.delimitedPrefixes.map((p) => p.slice(0, -1));
    const manifests = await Promise.all(ids.map((id) => this.readManifest(bucket, id)));
    return manifests.filter((m): m is EdgeManifest => m !== null);
  }

  get(bucket: R2Bucket, id: string): Promise<EdgeModel> {
    let load = this.loads.get(id);
    if (!load) {
      load = this.load(bucket, id);
      this.loads.set(id, load);
      // A failed load is not cached: the next request tries again.
      load.catch(() => this.loads.delete(id));
    }
    return load;
  }

  private async readManifest(bucket: R2Bucket, id: string): Promise<EdgeManifest | null> {
    // R2 refuses keys over 1024 bytes (a 500); an id that cannot be a key names no model.
    if (!isKeyable(manifestKey(id))) return null;
    const object = await bucket.get(manifestKey(id));
    if (!object) return null;
    const parsed = edgeManifest.safeParse(await object.json());
    return parsed.success ? parsed.data : null;
  }

  private async load(bucket: R2Bucket, id: string): Promise<EdgeModel> {
    const manifest = await this.readManifest(bucket, id);
    if (!manifest) throw modelNotFound(id);
    if (manifest.format === 'hf') {
      const fresh = () => createWasmKernels(this.kernels, WORKER_RELAXED);
      const hf = await loadHfEdgeModel(bucket, manifest, await fresh(), fresh);
      return { manifest, ...hf, promptCache: new PromptCache() };
    }
    const [checkpoint, tokenizer] = await Promise.all([
      readFile(bucket, `${id}/${manifest.checkpoint}`),
      readFile(bucket, `${id}/${manifest.tokenizer}`),
    ]);
    const backend = await createWasmKernels(this.kernels, WORKER_RELAXED);
    const engine = LlamaModel.fromLlama2c(backend, checkpoint, tokenizer, {
      id,
      maxSessions: manifest.max_sessions ?? undefined,
      maxQueue: manifest.max_queue ?? undefined,
      decodeBatch: manifest.decode_batch ?? undefined,
    });
    return {
      manifest,
      engine,
      weightsDigest: await weightsDigest(checkpoint),
      promptCache: new PromptCache(),
      kvShape: kvShapeOf(engine.config),
      latentShape: null,
    };
  }
}

async function readFile(bucket: R2Bucket, key: string): Promise<Uint8Array> {
  const object = await bucket.get(key);
  if (!object) {
    throw new ApiError(
      503,
      `Model file ${key} is missing from storage.`,
      'service_unavailable',
      'model_unavailable',
      null,
      30,
    );
  }
  return new Uint8Array(await object.arrayBuffer());
}

const MAX_R2_KEY_BYTES = 1024;
/** Well-formed UTF-16 (no lone surrogate) and within R2's key length. */
const isKeyable = (key: string) =>
  !/\p{Surrogate}/u.test(key) && new TextEncoder().encode(key).length <= MAX_R2_KEY_BYTES;
