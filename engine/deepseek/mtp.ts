// Multi-token prediction (the next-n module DeepSeek-V3 ships as layer num_hidden_layers) and greedy
// self-speculative decoding with it.
//
// MTP at position i sees the main model's final hidden state h_i (after model.norm, as vLLM and SGLang
// feed it) and the embedding of token t_{i+1}: x = eh_proj([enorm(emb(t_{i+1})) ; hnorm(h_i)]) (this
// order, as the checkpoint's eh_proj expects; like those engines we zero the embedding at position 0);
// x goes through one transformer block with its own MLA cache (rope position i), then shared_head.norm
// and shared_head.head give logits for t_{i+2}.
//
// Decoding: the main model has produced t_n; MTP drafts d ≈ t_{n+1}. One batched main step on [t_n, d]
// yields greedy g0 at n and g1 at n+1. If g0 = d the draft is accepted and both d and g1 are emitted;
// otherwise only g0 is, and d's cache row is dead (the next step starts at its position and overwrites
// it). Emitted tokens are always the main model's own argmax, so the output equals plain greedy.
import { blockForward, createBlockContext, mlaDims, type BlockContext } from './block';
import { linear } from './linear';
import { createMlaCache, type MlaCache } from './mla';
import { argmax, rmsNorm } from './ops';
import type { DeepSeekReferenceModel } from './reference';
import type { MtpWeights } from './weights';

/** Anything that drafts the token after next from the main model's hidden states. */
export interface Drafter {
  /**
   * Consumes confirmed positions startPos..startPos+n-1: hidden[n, hidden] of the main model at those
   * positions and nextTokens[n], the confirmed token following each. Returns a draft for the token
   * after the last of nextTokens.
   */
  extend(hidden: Float64Array, nextTokens: ArrayLike<number>, startPos: number): number;
}

export class MtpDrafter implements Drafter {
  private readonly w: MtpWeights;
  private readonly cache: MlaCache;
  private readonly ctx: BlockContext;
  private readonly x: Float64Array; // [hidden]
  private readonly eh: Float64Array; // [2·hidden] = [enorm(emb) ; hnorm(h)]
  /** The draft logits [vocab] of the latest extend(). */
  readonly logits: Float64Array;

  constructor(
    private readonly model: DeepSeekReferenceModel,
    module = 0,
  ) {
    const c = model.config;
    const w = model.weights.mtp[module];
    if (!w)
      throw new RangeError(
        `checkpoint has ${model.weights.mtp.length} MTP module(s); asked for #${module}`,
      );
    this.w = w;
    this.cache = createMlaCache('absorbed', mlaDims(c), model.maxSeqLen);
    this.ctx = createBlockContext(c, model.maxSeqLen);
    this.x = new Float64Array(c.hiddenSize);
    this.eh = new Float64Array(2 * c.hiddenSize);
    this.logits = new Float64Array(c.vocabSize);
  }

  extend(hidden: Float64Array, nextTokens: ArrayLike<number>, startPos: number): number {
    const c = this.model.config,
      h = c.hiddenSize,
      w = this.w;
    for (let t = 0; t < nextTokens.length; t++) {
      const tok = nextTokens[t];
      if (startPos + t === 0)
        this.eh.fill(0, 0, h); // rmsNorm(0) = 0
      else rmsNorm(this.eh, w.embed.subarray(tok * h, (tok + 1) * h), w.enorm, h, c.rmsNormEps);
      rmsNorm(this.eh.subarray(h), hidden.subarray(t * h, (t + 1) * h), w.hnorm, h, c.rmsNormEps);
      linear(this.x, w.ehProj, this.eh, this.ctx.mla.lin); // [hidden]
      blockForward(this.x, startPos + t, w.block, this.cache, this.ctx);
    }
    rmsNorm(this.x, this.x, w.headNorm, h, c.rmsNormEps);
    linear(this.logits, w.head, this.x, this.ctx.mla.lin); // [vocab]
    return argmax(this.logits);
  }
}

export interface SpeculativeResult {
  tokens: number[];
  /** Drafts checked by the main model, and how many of them it agreed with. */
  proposed: number;
  accepted: number;
  acceptanceRate: number;
  /** Main-model forward calls after the prompt (plain greedy needs tokens.length - 1). */
  mainSteps: number;
}

/** Greedy decoding of maxNewTokens with one draft per main step; the model's caches start empty. */
export function speculativeGreedy(
  model: DeepSeekReferenceModel,
  drafter: Drafter,
  prompt: ArrayLike<number>,
  maxNewTokens: number,
): SpeculativeResult {
  const V = model.config.vocabSize,
    h = model.config.hiddenSize,
    P = prompt.length;
  if (P === 0) throw new RangeError('prompt must hold at least one token');
  const tokens: number[] = [];
  let draft = -1,
    proposed = 0,
    accepted = 0,
    mainSteps = 0;
  // Prefill in chunks; each chunk's hidden states go to the drafter once the token after each is known.
  for (let at = 0; at < P; at += model.maxBatch) {
    const n = Math.min(model.maxBatch, P - at);
    const logits = model.forward(
      Array.from({ length: n }, (_, i) => prompt[at + i]),
      at,
    );
    const last = at + n === P;
    if (last) tokens.push(argmax(logits.subarray((n - 1) * V, n * V)));
    const following = Array.from({ length: n }, (_, i) =>
      at + i + 1 < P ? prompt[at + i + 1] : tokens[0],
    );
    draft = drafter.extend(model.hidden.subarray(0, n * h), following, at);
  }
  let pos = P; // position of the newest emitted token, not yet run through the main model
  while (tokens.length < maxNewTokens) {
    const logits = model.forward([tokens[tokens.length - 1], draft], pos); // [2, vocab]
    mainSteps++;
    proposed++;
    const g0 = argmax(logits.subarray(0, V));
    if (g0 === draft) {
      accepted++;
      const g1 = argmax(logits.subarray(V, 2 * V));
      tokens.push(g0, g1);
      draft = drafter.extend(model.hidden.subarray(0, 2 * h), [g0, g1], pos);
      pos += 2;
    } else {
      tokens.push(g0);
      draft = drafter.extend(model.hidden.subarray(0, h), [g0], pos);
      pos += 1;
    }
  }
  tokens.length = maxNewTokens;
  return {
    tokens,
    proposed,
    accepted,
    acceptanceRate: proposed ? accepted / proposed : 0,
    mainSteps,
  };
}
