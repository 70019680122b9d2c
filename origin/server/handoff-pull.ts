// A decode origin's half of the hand-off (docs/origin.md, "Roles"): before a request joins the batch,
// pull its prompt's rows and last logits from a prefill origin (POST /internal/prefill, handoff-wire.ts)
// and check every block as the prompt cache checks an entry (header, shape, position, chain hash). A
// prefill origin that refuses, dies or sends a damaged stream is skipped for the next one; when none
// answers, the request is prefilled here, so it is neither lost nor answered twice: nothing reached
// the client before the hand-off completed. Blocks are checked one per event-loop turn: a 2K-token prompt
// is ~3 MB to inflate and checksum, which in one piece would stall every decoding stream. Blocks and
// logits are inflated into memory lent for the hand-off (handoff-buffers.ts), not into new arrays.
import { decodeLatentEntrySync, latentPayloadBytes } from '../../engine/prompt-cache/index';
import type { KvRows, LatentAccess } from '../backend/step-backend';
import type { PrefilledPrompt } from '../scheduler/handoff';
import type { GenerationRequest } from '../scheduler/sequence';
import { HandoffBuffers } from './handoff-buffers';
import { FRAME, FrameReader, blockHash, fastZlib, type HandoffHead } from './handoff-wire';

export interface HandoffClient {
  /** Prompts shorter than this are prefilled here. */
  minTokens: number;
  /** Hand-offs by outcome: pulled from a prefill origin, or prefilled here after every one failed. */
  readonly counts: { pulled: number; fallback: number };
  /**
   * The prompt from the first prefill origin that delivers it (`preferred` first, if it is one of them), or
   * null. Its lease is held once, for the caller to release once every sequence holds it.
   */
  pull(
    req: GenerationRequest,
    preferred: string | undefined,
    signal: AbortSignal,
  ): Promise<{ prompt: PrefilledPrompt; from: string } | null>;
}

export function handoffClient(o: {
  origins: string[];
  secret: string;
  latents: LatentAccess;
  vocabSize: number;
  /** Positions a slot holds: the longest prompt a hand-off brings. */
  maxSeqLen: number;
  minTokens: number;
  timeoutMs: number;
}): HandoffClient {
  const counts = { pulled: 0, fallback: 0 };
  const buffers = new HandoffBuffers(promptBytes(o.latents, o.maxSeqLen, o.vocabSize * 8));
  return {
    minTokens: o.minTokens,
    counts,
    async pull(req, preferred, signal) {
      const pref = preferred?.replace(/\/+$/, '');
      const order = o.origins.includes(pref ?? '')
        ? [pref!, ...o.origins.filter((u) => u !== pref)]
        : o.origins;
      for (const url of order) {
        try {
          const prompt = await pullFrom(url, { ...o, buffers }, req, signal);
          counts.pulled++;
          return { prompt, from: url };
        } catch (err) {
          if (signal.aborted) throw err;
          console.warn(`origin: hand-off from ${url} failed: ${(err as Error).message}`);
        }
      }
      counts.fallback++;
      return null;
    },
  };
}

async function pullFrom(
  url: string,
  o: Reading & { secret: string; timeoutMs: number },
  req: GenerationRequest,
  signal: AbortSignal,
): Promise<PrefilledPrompt> {
  const res = await fetch(`${url}/internal/prefill`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${o.secret}` },
    body: JSON.stringify({ prompt_ids: req.promptIds, block_keys: req.blockKeys }),
    signal: AbortSignal.any([signal, AbortSignal.timeout(o.timeoutMs)]),
  });
  if (!res.ok || !res.body)
    throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
  const frames = new FrameReader(res.body);
  try {
    return await readPrompt(frames, o, req);
  } finally {
    frames.cancel();
  }
}

interface Reading {
  latents: LatentAccess;
  vocabSize: number;
  buffers: HandoffBuffers;
}

/** Bytes of a prompt's logits, then its rows as f32 latent payloads (4-byte multiples: each block's rows are aligned views). */
const promptBytes = (latents: LatentAccess, tokens: number, logitBytes: number) =>
  logitBytes + latentPayloadBytes(latents.shape, tokens, 'f32');

/** setImmediate, as the scheduler yields between steps: its next step runs before the blocks after. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The most time blocks are checked and copied in one event-loop turn (a 64-token block of pystd-mla-moe is
 * 82 KB, its checksum ~17 µs; one of DeepSeek-V3's shape ~9 MB, over the budget alone): a turn per block
 * made a 768-token hand-off wait a decoding step per block.
 */
const TURN_BUDGET_MS = 1;

/** The prompt's frames, read into a lent buffer: its logits first (aligned for f64), then its blocks. */
async function readPrompt(
  frames: FrameReader,
  { latents, vocabSize: vocab, buffers }: Reading,
  req: GenerationRequest,
): Promise<PrefilledPrompt> {
  const first = await frames.next();
  if (first?.kind !== FRAME.head) throw new Error('no head frame');
  const head = JSON.parse(new TextDecoder().decode(first.payload)) as HandoffHead;
  const n = req.promptIds.length;
  if (head.tokens !== n || head.vocab !== vocab || head.blocks !== Math.ceil(n / 64))
    throw new Error(`head ${JSON.stringify(head)} does not fit a ${n}-token prompt`);
  const logitBytes = vocab * (head.logits === 'f64' ? 8 : 4);
  const { buffer, lease } = buffers.lend(promptBytes(latents, n, logitBytes));
  try {
    const mem = new Uint8Array(buffer);
    const blocks: KvRows[] = [];
    let at = logitBytes;
    let turn = performance.now();
    for (let i = 0; i < head.blocks; i++) {
      const f = await frames.next();
      if (f?.kind !== FRAME.entry) throw new Error(`block ${i} missing`);
      const start = i * 64;
      const expect = {
        chainHash: blockHash(req.promptIds, req.blockKeys, i),
        shape: latents.shape,
        start,
        count: Math.min(64, n - start),
      };
      const got = decodeLatentEntrySync(f.payload, expect, fastZlib, mem.subarray(at));
      if (!got.ok) throw new Error(`block ${i}: ${got.reason}`);
      blocks.push(latents.fromLatents(got.rows));
      at += latentPayloadBytes(latents.shape, expect.count, 'f32');
      if (performance.now() - turn >= TURN_BUDGET_MS) {
        await nextTurn(); // the scheduler's steps go on between blocks, not after the whole prompt
        turn = performance.now();
      }
    }
    const f = await frames.next();
    if (f?.kind !== FRAME.logits) throw new Error('logits missing');
    if (f.payload.length !== logitBytes)
      throw new Error(`${f.payload.length} bytes of logits, not ${logitBytes}`);
    mem.set(f.payload);
    const logits =
      head.logits === 'f64'
        ? new Float64Array(buffer, 0, vocab)
        : new Float32Array(buffer, 0, vocab);
    return { blocks, logits, lease };
  } catch (err) {
    lease.release();
    throw err;
  }
}
