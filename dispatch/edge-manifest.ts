// The manifest that describes an edge model stored in R2 under `<id>/model.json`: a llama2.c
// checkpoint + tokenizer.bin, or a model directory in the HF layout (DESIGN.md "Model files").
import { z } from 'zod';

const common = {
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'model id: letters, digits, . _ : -'),
  created: z.number().int(),
  owned_by: z.string().default('edge-inference'),
  description: z.string().optional(),
  /** A Jinja chat template overriding the model's own; absent: tokenizer_config.json's, else the plain template. */
  chat_template: z.string().nullish(),
  /** Most concurrent sessions (each holds a KV cache), decoded together; big models in 128 MB want 1. */
  max_sessions: z.number().int().positive().nullish(),
  /** Most requests waiting for a session before new ones get 503 + retry-after; default 4 × max_sessions. */
  max_queue: z.number().int().nonnegative().nullish(),
  /** Most sequences per decode step; default max_sessions. 1: one after another (as before batching). */
  decode_batch: z.number().int().positive().nullish(),
};

export const llama2cManifest = z.object({
  ...common,
  format: z.literal('llama2c'),
  /** File names relative to the model's folder. */
  checkpoint: z.string().min(1),
  tokenizer: z.string().min(1),
  /** The checkpoint's seq_len (its header's), for /models; the engine reads it from the checkpoint. */
  context_length: z.number().int().positive().nullish(),
});

export const hfManifest = z.object({
  ...common,
  format: z.literal('hf'),
  config: z.string().min(1).default('config.json'),
  /** safetensors files, streamed into WASM memory in this order. */
  weights: z.array(z.string().min(1)).min(1),
  /**
   * An edge-native weights file (docs/models.md) holding the same weights in the kernels' layout: a
   * cold start copies it into WASM memory as it streams; `weights` stay the fallback. Llama family only.
   */
  native: z.string().min(1).nullish(),
  /** tokenizer.json, or a llama2.c tokenizer.bin (models imported from llama2.c). */
  tokenizer: z.string().min(1),
  tokenizer_config: z.string().min(1).nullish(),
  generation_config: z.string().min(1).nullish(),
  /** Cap on the context (the KV cache of each session is this long); default 2048 (dispatch/edge-hf.ts). */
  context_length: z.number().int().positive().nullish(),
  /** DeepSeek-V3 dirs with an MTP module: place it and decode speculatively (default true). */
  mtp: z.boolean().nullish(),
  /** DeepSeek-V3 dirs: the ids the MTP draft's head scores (draft_vocab.json, engine/deepseek/draft-vocab.ts). */
  draft_vocab: z.string().min(1).nullish(),
});

export const edgeManifest = z.discriminatedUnion('format', [llama2cManifest, hfManifest]);
export type EdgeManifest = z.infer<typeof edgeManifest>;
export type HfManifest = z.infer<typeof hfManifest>;

export const manifestKey = (id: string) => `${id}/model.json`;
