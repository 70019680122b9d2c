// Prefill at an origin, decode at the edge (docs/prompt-cache.md, "Prefill at an origin"). For an edge
// MLA model whose registry entry has a `prefill` tier, a prompt with at least `min_prompt_tokens` not
// in the prompt cache is computed by one of the tier's origins (the same checkpoint), which answers its
// whole blocks as latent prompt-cache entries under this tenant's KV keys (POST /internal/prefill-entries,
// origin/server/internal-entries.ts). The Worker owns KV, so it asks and writes: each entry is checked
// (key, chain hash, position, shape, checksum) and decoded, restored into the edge engine at once, and
// put into KV after the response, where the next request with this prefix finds it.
// Nothing reaches the client before the hand-off ends, so an origin that refuses, times out, dies
// mid-answer or sends entries that do not check out costs a try on the next origin, and when none
// delivers the edge prefills the prompt itself: one answer, billed once (the origin call is not billed).
import type { LatentRows } from '../engine/prompt-cache/index';
import type { Dispatcher } from './dispatcher';
import { decodeBlock, leadingRun, type LatentLookup, type LatentScope } from './latent-cache';
import { secretOf, type PlacementRequest } from './origin-call';
import { originName, type OriginConfig, type PrefillTier } from './registry';
import { authOf } from './upstream';

export interface HandoffRequest {
  d: Dispatcher;
  tier: PrefillTier;
  env: PlacementRequest['env'];
  requestId: string;
  waitUntil: (p: Promise<unknown>) => void;
  signal?: AbortSignal;
  scope: LatentScope;
  promptIds: number[];
  /** The prompt's text: its start picks the origin (prefix affinity, as for origin pools). */
  promptText: string;
  /** What KV held already: its keys and hashes, and the restored run. */
  lookup: LatentLookup;
}

export interface Handoff {
  /** Rows of blocks 0..k-1 (k: the run of good blocks the origin sent). */
  rows: LatentRows<Float32Array>[];
  /** The entries to store (the blocks KV lacked). */
  entries: { key: string; value: string }[];
  /** The origin's name (`x-prefilled-by`). */
  by: string;
}

/** Whether a prompt is long enough, past what KV held, to be prefilled at the tier's origins. */
export const wantsHandoff = (tier: PrefillTier, promptTokens: number, hitTokens: number) =>
  promptTokens - hitTokens >= tier.min_prompt_tokens && promptTokens >= 64;

interface EntriesAnswer {
  tokens: number;
  weights_digest: string;
  entries: { key: string; value: string }[];
}

/** The hand-off from the first origin that delivers; null when none does (the edge prefills). */
export async function prefillAtOrigin(r: HandoffRequest): Promise<Handoff | null> {
  const choice = r.d.choose(r.tier, r.promptText, { waitUntil: r.waitUntil, secret: secret(r) });
  if (!choice.ok) return null;
  for (const origin of choice.order) {
    if (r.signal?.aborted) return null;
    const release = r.d.health.acquire(origin.url);
    try {
      const got = await askOrigin(r, origin);
      if (got) {
        r.d.health.onSuccess(origin.url);
        return got;
      }
    } catch (err) {
      // A body cut mid-way is a server failure; no answer at all, a connect failure (opens the circuit).
      const name = (err as Error).name;
      const why =
        name === 'TimeoutError' ? 'timeout' : name === 'SyntaxError' ? 'server' : 'connect';
      if (!r.signal?.aborted) r.d.health.onFailure(origin.url, why);
      console.warn(`request ${r.requestId}: prefill at ${origin.url} failed: ${String(err)}`);
    } finally {
      release();
    }
  }
  return null;
}

const secret = (r: HandoffRequest) => secretOf(r.env, r.tier.auth.secret);

/** One origin's answer, checked; null for an answer that is refused or does not check out. */
async function askOrigin(r: HandoffRequest, origin: OriginConfig): Promise<Handoff | null> {
  const timeout = AbortSignal.timeout(r.tier.timeouts.first_token_ms);
  const res = await fetch(`${origin.url}/internal/prefill-entries`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-request-id': r.requestId,
      ...authOf({ pool: r.tier, secret: secret(r) }),
    },
    body: JSON.stringify({
      prompt_ids: r.promptIds,
      scope: {
        tenant_salt: r.scope.tenantSalt,
        model_id: r.scope.modelId,
        weights_digest: r.scope.weightsDigest,
      },
      codec: r.tier.codec,
      logits: false, // the edge computes the prompt's last token itself
    }),
    signal: r.signal ? AbortSignal.any([r.signal, timeout]) : timeout,
  });
  if (!res.ok) {
    const text = await res.text().catch(() => '');
    if (res.status === 429 || res.status === 503)
      r.d.health.onOverloaded(origin.url, 1000 * Number(res.headers.get('retry-after') ?? 1));
    else if (res.status >= 500) r.d.health.onFailure(origin.url, 'server');
    console.warn(`request ${r.requestId}: prefill at ${origin.url}: ${res.status} ${text}`);
    return null;
  }
  // A body cut mid-way (the origin died) fails here and is a failure of this origin.
  const answer = (await res.json()) as EntriesAnswer;
  return checked(r, origin, answer);
}

/** The answer's good run of blocks from block 0, or null when it names other weights or has none. */
async function checked(
  r: HandoffRequest,
  origin: OriginConfig,
  a: EntriesAnswer,
): Promise<Handoff | null> {
  if (a.weights_digest !== r.scope.weightsDigest || a.tokens !== r.promptIds.length) {
    console.warn(
      `request ${r.requestId}: prefill at ${origin.url} refused: ` +
        `weights ${a.weights_digest?.slice(0, 16)} (edge ${r.scope.weightsDigest.slice(0, 16)}), ${a.tokens} tokens`,
    );
    return null;
  }
  const { keys, hashes } = r.lookup;
  const blocks = await Promise.all(
    keys.map((key, b) => {
      const e = a.entries?.[b];
      return e?.key === key ? decodeBlock(e.value, r.scope, hashes, b) : null;
    }),
  );
  const rows = leadingRun(blocks);
  if (rows.length <= r.lookup.rows.length) return null;
  return {
    rows,
    entries: a.entries.slice(r.lookup.rows.length, rows.length),
    by: originName(origin),
  };
}
