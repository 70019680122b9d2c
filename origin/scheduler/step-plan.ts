// What one continuous-batching step runs: a decode entry for every running sequence first (so a long
// prompt never stalls them) — [last token, draft] where speculative decoding left a draft and the budget
// has room (the step gives the first row's logits; the draft row's come later if the draft stands), else the last token alone — then prefill chunks of new sequences
// within the step's token budget.
import type { StepBackend, StepSequence } from '../backend/step-backend';
import type { Sequence } from './sequence';

export interface StepPlan {
  batch: StepSequence[];
  /** The sequence of each batch entry. */
  members: Sequence[];
  /** Tokens of the step's budget left unused. */
  budget: number;
}

export function planStep(
  active: readonly Sequence[],
  backend: Pick<StepBackend, 'maxStepTokens' | 'maxSeqLen'>,
  prefillChunk: number,
): StepPlan {
  const batch: StepSequence[] = [];
  const members: Sequence[] = [];
  let budget = backend.maxStepTokens;
  for (const s of active) {
    if (s.state !== 'decode' || budget < 1) continue;
    if (s.draft >= 0 && budget >= 2 && s.pos + 2 <= backend.maxSeqLen && s.tokensLeft >= 2) {
      const tokens = [s.lastToken, s.draft];
      batch.push({ slot: s.slot, tokens, startPos: s.pos, wantLogits: true, firstLogits: true });
      budget -= 2;
    } else {
      s.draft = -1; // no room to check it (or no use): a plain decode step; the MTP module drafts after it
      batch.push({ slot: s.slot, tokens: [s.lastToken], startPos: s.pos, wantLogits: true });
      budget--;
    }
    members.push(s);
  }
  for (const s of active) {
    if (s.state !== 'prefill' || budget < 1) continue;
    const n = Math.min(s.promptTokens - s.pos, prefillChunk, budget);
    batch.push({
      slot: s.slot,
      tokens: s.req.promptIds.slice(s.pos, s.pos + n),
      startPos: s.pos,
      wantLogits: s.pos + n === s.promptTokens,
    });
    members.push(s);
    budget -= n;
  }
  return { batch, members, budget };
}
