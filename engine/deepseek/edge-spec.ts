// Room: engine/deepseek (edge). The steps of one sequence on the WASM DeepSeek model, for
// DeepSeekEdgeModel: prefill in chunks, then decode, with MTP speculative decoding when on. Under
// speculation the MTP module runs after every main step over the positions that step confirmed (its
// own latent cache must hold every position), and, when a draft is of use, drafts the token after the
// last one; the next step feeds [last token, draft] and keeps the draft's row only if it stands (a
// rejected draft's cache row is rewritten by the next step). The head (vocab × hidden, the largest matrix
// of a small model) runs on both rows of a verify step at once while this generation's drafts mostly
// stand, else on the draft's row only once the draft stands. The origin's scheduler does the same for
// many sequences (origin/scheduler/scheduler.ts).
import type { Chosen, EdgeChooser } from './edge-chooser';
import type { WasmDeepSeekModel } from './wasm-model';
import { YieldPacer, yieldToEventLoop } from '../pacer';

export interface SpecCounters {
  drafted: number;
  accepted: number;
}

export interface StepContext {
  model: WasmDeepSeekModel;
  slot: number;
  chooser: EdgeChooser;
  speculative: boolean;
  signal?: AbortSignal;
  /** Tokens the generation may still emit (max_tokens minus those emitted). */
  left(): number;
  counters: SpecCounters;
}

/** A chosen token and its position. */
export interface Step {
  chosen: Chosen;
  at: number;
}

/**
 * Runs the MTP module over positions startPos.. of the step just run (nextTokens: the confirmed token
 * after each); with `want`, returns the draft of the token after the last of them, else -1.
 */
function runDraft(ctx: StepContext, startPos: number, nextTokens: number[], want: boolean) {
  if (!ctx.speculative) return -1;
  const out = ctx.model.draft([
    { slot: ctx.slot, startPos, hiddenRow: 0, nextTokens, wantLogits: want },
  ]);
  return want ? ctx.chooser.draft(out[0]) : -1;
}

/**
 * The share of a generation's drafts standing above which a verify step runs the head on both of its
 * rows at once: measured on models/pystd-mla-moe (bench/mtp-cost.ts), the head's second row costs about
 * a quarter of a lone row's pass (it shares the pass over the weights), so it pays as soon as more than
 * about one draft in four stands; below, rowLogits runs it on the draft's row only when the draft stood.
 */
const EAGER_HEAD_ACCEPTANCE = 0.3;

/** A draft is of use when, after the one chosen token not yet emitted, two more may follow. */
const draftWanted = (ctx: StepContext) => ctx.left() - 1 >= 2;

/**
 * Feeds the prompt from position `from` (those before it restored from the prompt cache) in chunks of
 * maxBatch; the first token and its draft (-1: none), or null on abort. The MTP module's cache is not
 * restored: it drafts from the positions it saw (outputs are unchanged, acceptance can be lower).
 */
export async function prefillSteps(
  ctx: StepContext,
  prompt: number[],
  from = 0,
): Promise<{ chosen: Chosen; draft: number } | null> {
  const { model, slot } = ctx,
    n = prompt.length;
  for (let a = from; a < n; a += model.maxBatch) {
    if (ctx.signal?.aborted) return null;
    const b = Math.min(n, a + model.maxBatch),
      tokens = prompt.slice(a, b);
    const [logits] = model.step([{ slot, tokens, startPos: a, wantLogits: b === n }]);
    if (b === n) {
      const chosen = ctx.chooser.token(logits);
      return {
        chosen,
        draft: runDraft(ctx, a, [...prompt.slice(a + 1), chosen.id], draftWanted(ctx)),
      };
    }
    runDraft(ctx, a, prompt.slice(a + 1, b + 1), false);
    await yieldToEventLoop();
  }
  throw new RangeError('prompt must hold at least one token');
}

/**
 * Decodes after `token` (at position `pos`, not yet fed) and its draft: yields each chosen token with
 * its position, null when the signal aborted. The consumer stops it (return) when generation ends.
 */
export async function* decodeSteps(
  ctx: StepContext,
  token: number,
  pos: number,
  draft: number,
): AsyncGenerator<Step | null> {
  const { model, slot, chooser } = ctx;
  let drafted = 0,
    accepted = 0;
  // a turn every few steps, not after each: in workerd a turn costs more than this model's step
  const pacer = new YieldPacer();
  for (let t = token, p = pos, d = draft; ;) {
    await pacer.step();
    if (ctx.signal?.aborted) return yield null;
    if (d < 0 || p + 2 > model.maxSeqLen) {
      const [logits] = model.step([{ slot, tokens: [t], startPos: p, wantLogits: true }]);
      const c = chooser.token(logits);
      d = runDraft(ctx, p, [c.id], draftWanted(ctx));
      yield { chosen: c, at: p + 1 };
      [t, p] = [c.id, p + 1];
      continue;
    }
    // [t, d] in one step; the head runs on d's row now too (eager: a prior of one in two standing), or
    // only if d stands (rowLogits)
    const eager = (accepted + 1) / (drafted + 2) >= EAGER_HEAD_ACCEPTANCE;
    const rows = model.step([
      {
        slot,
        tokens: [t, d],
        startPos: p,
        wantLogits: true,
        allLogits: eager,
        firstLogits: !eager,
      },
    ]);
    const v = chooser.verify(rows[0], d);
    ctx.counters.drafted++;
    drafted++;
    if (!v.accepted) {
      d = runDraft(ctx, p, [v.id], draftWanted(ctx));
      yield { chosen: v, at: p + 1 };
      [t, p] = [v.id, p + 1];
      continue;
    }
    ctx.counters.accepted++;
    accepted++;
    yield { chosen: v, at: p + 1 };
    // the step's rows and logits are still there: the slot is this generation's alone, and nothing ran
    // meanwhile.
    const b = chooser.token(eager ? rows[1] : model.rowLogits([1])[0]);
    d = runDraft(ctx, p, [v.id, b.id], draftWanted(ctx));
    yield { chosen: b, at: p + 2 };
    [t, p] = [b.id, p + 2];
  }
}
