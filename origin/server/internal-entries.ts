// POST /internal/prefill-entries: the hand-off through the prompt-cache store (docs/origin.md, "Roles").
// A prefill origin computes a prompt and answers its whole 64-token blocks as prompt-cache entries keyed
// as the Worker's Workers KV keys are (engine/prompt-cache cacheEntryKey: `pc:v1:<salt>:<model>@<weights>:
// <chain hash>`, under the scope the caller names), each a latent entry (c_kv, k_pe) in the codec asked
// for, base64 as KV holds it, with the last position's logits. The caller (the Worker) writes them into
// KV; a decode side that reads the prompt cache (an edge MLA model, another origin) restores them as any
// cache hit. The last prompt token is always computed by whoever decodes, as with any cache hit. The
// answer names this origin's weights (`weights_digest`, the SHA-256 of config.json and the safetensors
// files), so the caller can refuse rows of another checkpoint; `logits: false` leaves the logits out
// (a decoder that computes the last token itself needs none: 0.5 MB of base64 at DeepSeek-V3's vocab).
import type { Hono } from 'hono';
import {
  LATENT_CODEC_NAMES,
  cacheEntryKey,
  cacheableBlocks,
  chainHashes,
  encodeLatentEntry,
  toBase64,
  type ChainSeed,
  type LatentCodecName,
} from '../../engine/prompt-cache/index';
import { invalidRequest } from '../../protocol/errors';
import { sha256Now } from '../scheduler/prefix-cache';
import {
  authorized,
  parseBody,
  prefillOnly,
  unauthorized,
  type InternalContext,
} from './internal-prefill';

export interface CacheEntriesAnswer {
  tokens: number;
  codec: LatentCodecName;
  /** This origin's checkpoint (filesDigest): the rows are this checkpoint's. */
  weights_digest: string;
  entries: { key: string; value: string }[];
  /** The last position's logits, f32 little-endian, base64; absent when the request said `logits: false`. */
  logits?: string;
}

function scopeOf(b: Record<string, unknown>): { scope: ChainSeed; codec: LatentCodecName } {
  const s = (b.scope ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => typeof v === 'string';
  if (!str(s.tenant_salt) || !str(s.model_id) || !str(s.weights_digest) || !s.model_id)
    throw invalidRequest('scope: {tenant_salt, model_id, weights_digest} strings', 'scope');
  const codec = (b.codec ?? 'f32') as LatentCodecName;
  if (!LATENT_CODEC_NAMES.includes(codec))
    throw invalidRequest(`codec: one of ${LATENT_CODEC_NAMES.join(', ')}`, 'codec');
  return {
    scope: {
      tenantSalt: s.tenant_salt as string,
      modelId: s.model_id as string,
      weightsDigest: s.weights_digest as string,
    },
    codec,
  };
}

export function cacheEntryRoutes(app: Hono<any>, ctx: InternalContext): void {
  app.post('/internal/prefill-entries', async (c) => {
    if (!authorized(ctx.secret, c.req.header('authorization'))) throw unauthorized();
    const body = ((await c.req.json().catch(() => null)) ?? {}) as Record<string, unknown>;
    const { promptIds } = parseBody({ prompt_ids: body.prompt_ids }, ctx.vocabSize, ctx.maxSeqLen);
    const { scope, codec } = scopeOf(body);
    const blocks = cacheableBlocks(promptIds.length);
    const hashes = await chainHashes(scope, promptIds, blocks, sha256Now);
    // The origin's own prefix cache is keyed by its own scope; these blocks are the caller's: not cached here.
    const p = await prefillOnly(ctx.scheduler, ctx.vocabSize, promptIds, [], c.req.raw.signal);
    const entries = await Promise.all(
      hashes.map(async (hash, i) => ({
        key: cacheEntryKey(scope, hash),
        value: toBase64(await encodeLatentEntry(ctx.latents.toLatents(p.blocks[i]), codec, hash)),
      })),
    );
    const logits = body.logits === false ? null : Float32Array.from(p.logits);
    const answer: CacheEntriesAnswer = {
      tokens: promptIds.length,
      codec,
      weights_digest: ctx.weightsDigest,
      entries,
      ...(logits ? { logits: toBase64(new Uint8Array(logits.buffer)) } : {}),
    };
    return c.json(answer);
  });
}
