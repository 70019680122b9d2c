// What one continuous-batching step runs: a decode entry for every running sequence first (so a long
// prompt never stalls them) — [last token, draft] where speculative decoding left a draft and the budget
// has room, else the last token alone — then prefill chunks of new sequences within the step's token
// budget. A verify entry asks for both rows' logits (allLogits) when the step decodes few sequences
// and this one's drafts mostly stand: a head over so few rows streams its weights once for them all,
// so the draft row's costs a fraction of a second pass (bench/mtp-cost.ts). Otherwise it asks for the
// first row's (firstLogits) and the draft row's come later, batched, only if the draft stands.
import type { StepBackend, StepSequence } from '../backend/step-backend';
import type { Sequence } from './sequence';

export interface StepPlan {
  batch: StepSequence[];
  /** The sequence of each batch entry. */
  members: Sequence[];
  /** Tokens of the step's budget left unused. */
  budget: number;
}

/** At most this many decoding sequences for eager verify entries (head rows ≤ 4: the few-row kernels). */
const EAGER_MAX_DECODING = 2;
/** The share of a sequence's drafts standing (prior: 1 in 2) above which the draft row's head pays. */
const EAGER_ACCEPTANCE = 0.3;

export function planStep(
  active: readonly Sequence[],
  backend: Pick<StepBackend, 'maxStepTokens' | 'maxSeqLen' | 'maxLogitRows'>,
  prefillChunk: number,
): StepPlan {
  const batch: StepSequence[] = [];
  const members: Sequence[] = [];
  let budget = backend.maxStepTokens;
  // Rows of logits left in this step: a scored prompt's chunk takes one per token.
  let rows = backend.maxLogitRows ?? Infinity;
  const few = active.filter((s) => s.state === 'decode').length <= EAGER_MAX_DECODING;
  for (const s of active) {
    if (s.state !== 'decode' || budget < 1) continue;
    if (s.draft >= 0 && budget >= 2 && s.pos + 2 <= backend.maxSeqLen && s.tokensLeft >= 2) {
      const tokens = [s.lastToken, s.draft];
      const eager = few && (s.accepted + 1) / (s.drafted + 2) >= EAGER_ACCEPTANCE;
      batch.push({
        slot: s.slot,
        tokens,
        startPos: s.pos,
        wantLogits: true,
        ...(eager ? { allLogits: true } : { firstLogits: true }),
      });
      budget -= 2;
      rows -= eager ? 2 : 1;
    } else {
      s.draft = -1; // no room to check it (or no use): a plain decode step; the MTP module drafts after it
      batch.push({ slot: s.slot, tokens: [s.lastToken], startPos: s.pos, wantLogits: true });
      budget--;
      rows--;
    }
    members.push(s);
  }
  for (const s of active) {
    if (s.state !== 'prefill' || budget < 1) continue;
    const scoring = s.req.scorePrompt !== undefined;
    // a chunk's last row may need logits (the prompt's end); a scored chunk needs every row's
    const n = Math.min(s.promptTokens - s.pos, prefillChunk, budget, scoring ? rows : Infinity);
    const last = s.pos + n === s.promptTokens;
    if (n < 1 || (last && rows < 1)) continue;
    batch.push({
      slot: s.slot,
      tokens: s.req.promptIds.slice(s.pos, s.pos + n),
      startPos: s.pos,
      wantLogits: last,
      ...(scoring ? { allLogits: true } : {}),
    });
    members.push(s);
    budget -= n;
    rows -= scoring ? n : last ? 1 : 0;
  }
  return { batch, members, budget };
}
