// POST /internal/prefill: a prefill origin's half of the hand-off (docs/origin.md, "Roles"). The decode
// origin sends the prompt's token ids and prefix-cache keys, with the shared secret; this origin runs the
// prompt through its scheduler as a prefill-only sequence (batched with its other work, its prefix cache
// restoring and keeping blocks as for any request) and streams back its rows as latent entries and the
// last position's logits (handoff-wire.ts). The decode origin pulls, rather than this origin pushing,
// because it owns the client's stream: it alone knows when to give up on one prefill origin and try
// another or prefill itself, and nothing it has not received can reach the client twice.
import { timingSafeEqual } from 'node:crypto';
import type { Hono } from 'hono';
import { encodeLatentEntrySync } from '../../engine/prompt-cache/index';
import { ApiError, invalidRequest } from '../../protocol/errors';
import { samplingOptionsOf } from '../../protocol/sampling';
import type { LatentAccess } from '../backend/step-backend';
import type { PrefilledPrompt } from '../scheduler/handoff';
import type { Scheduler } from '../scheduler/scheduler';
import { FRAME, blockHash, fastZlib, frame, jsonFrame, type HandoffHead } from './handoff-wire';

export interface InternalContext {
  secret: string;
  scheduler: Scheduler;
  latents: LatentAccess;
  vocabSize: number;
  maxSeqLen: number;
  /** The checkpoint's digest (origin/model/load.ts filesDigest), named in prompt-cache entry answers. */
  weightsDigest: string;
}

export const unauthorized = () =>
  new ApiError(401, 'Missing or wrong internal secret.', 'authentication_error', 'unauthorized');

export function authorized(secret: string, header: string | undefined): boolean {
  const got = Buffer.from(header?.replace(/^Bearer\s+/i, '') ?? '');
  const want = Buffer.from(secret);
  return got.length === want.length && timingSafeEqual(got, want);
}

export function parseBody(body: unknown, vocab: number, maxSeqLen: number) {
  const b = (body ?? {}) as { prompt_ids?: unknown; block_keys?: unknown };
  const ids = b.prompt_ids;
  if (
    !Array.isArray(ids) ||
    ids.length === 0 ||
    ids.length >= maxSeqLen ||
    !ids.every((t) => Number.isInteger(t) && t >= 0 && t < vocab)
  )
    throw invalidRequest(
      `prompt_ids: 1 to ${maxSeqLen - 1} token ids below ${vocab}`,
      'prompt_ids',
    );
  const keys = b.block_keys ?? [];
  if (
    !Array.isArray(keys) ||
    keys.length > Math.floor(ids.length / 64) ||
    !keys.every((k) => typeof k === 'string' && /^[0-9a-f]{64}$/.test(k))
  )
    throw invalidRequest('block_keys: hex SHA-256 keys of whole prompt blocks', 'block_keys');
  return { promptIds: ids as number[], blockKeys: keys as string[] };
}

export function prefillRoute(app: Hono<any>, ctx: InternalContext): void {
  app.post('/internal/prefill', async (c) => {
    if (!authorized(ctx.secret, c.req.header('authorization'))) throw unauthorized();
    const { promptIds, blockKeys } = parseBody(
      await c.req.json().catch(() => null),
      ctx.vocabSize,
      ctx.maxSeqLen,
    );
    const prompt = await prefillOnly(
      ctx.scheduler,
      ctx.vocabSize,
      promptIds,
      blockKeys,
      c.req.raw.signal,
    );
    return new Response(handoffStream(ctx.latents, promptIds, blockKeys, prompt), {
      headers: { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' },
    });
  });
}

/** Runs a prompt as a prefill-only sequence (batched with this origin's other work); its rows and last logits. */
export async function prefillOnly(
  scheduler: Scheduler,
  vocabSize: number,
  promptIds: number[],
  blockKeys: string[],
  signal: AbortSignal,
): Promise<PrefilledPrompt> {
  let prompt: PrefilledPrompt | undefined;
  const seq = scheduler.submit(
    {
      promptIds,
      maxTokens: 1,
      sampling: samplingOptionsOf({}, vocabSize),
      stop: [],
      ignoreEos: true,
      blockKeys,
      onPrefilled: (p) => (prompt = p),
    },
    signal,
  );
  for (;;) {
    const ev = await seq.events.next();
    if (ev.kind === 'error') throw ev.error;
    if (ev.kind === 'end') break;
  }
  if (!prompt) throw new Error('prefill ended without its rows');
  return prompt;
}

/** The frames, each block encoded when the reader wants it (the decode origin sets the pace). */
function handoffStream(
  latents: LatentAccess,
  promptIds: number[],
  keys: string[],
  p: PrefilledPrompt,
): ReadableStream<Uint8Array> {
  const head: HandoffHead = {
    tokens: promptIds.length,
    blocks: p.blocks.length,
    logits: p.logits instanceof Float64Array ? 'f64' : 'f32',
    vocab: p.logits.length,
  };
  let i = -1;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i === -1) controller.enqueue(jsonFrame(FRAME.head, head));
      else if (i < p.blocks.length) {
        const rows = latents.toLatents(p.blocks[i]);
        const hash = blockHash(promptIds, keys, i);
        controller.enqueue(frame(FRAME.entry, encodeLatentEntrySync(rows, 'f32', hash, fastZlib)));
      } else if (i === p.blocks.length) {
        const l = p.logits;
        controller.enqueue(
          frame(FRAME.logits, new Uint8Array(l.buffer, l.byteOffset, l.byteLength)),
        );
      } else controller.close();
      i++;
    },
  });
}
