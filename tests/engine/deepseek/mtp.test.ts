import { describe, expect, it } from 'vitest';
import { MtpDrafter, speculativeGreedy, type Drafter } from '../../../engine/deepseek/mtp';
import { DeepSeekReferenceModel } from '../../../engine/deepseek/reference';
import { generateSyntheticDeepSeek } from '../../../engine/deepseek/synthetic';
import { loadDeepSeekModel } from '../../../engine/deepseek/weights';

const weights = loadDeepSeekModel(generateSyntheticDeepSeek({ seed: 1 }));
const prompt = [0, 17, 300, 42, 9, 511, 128, 77, 5, 260];
const steps = 40;
const session = (maxBatch = 64) =>
  new DeepSeekReferenceModel(weights, { maxSeqLen: prompt.length + steps + 2, maxBatch });
const greedy = session().generateGreedy(prompt, steps);

/** Drafts the true greedy token on every other call and a wrong one otherwise: both branches run. */
class HalfOracle implements Drafter {
  private calls = 0;
  extend(_hidden: Float64Array, nextTokens: ArrayLike<number>, startPos: number): number {
    const at = startPos + nextTokens.length + 1 - prompt.length; // index in `greedy` of the drafted token
    const truth = greedy[Math.min(at, greedy.length - 1)];
    return this.calls++ % 2 === 0 ? truth : (truth + 1) % weights.config.vocabSize;
  }
}

describe('MTP self-speculative decoding', () => {
  it(`equals plain greedy decoding over ${steps} steps with the checkpoint's MTP module`, () => {
    const model = session();
    const r = speculativeGreedy(model, new MtpDrafter(model), prompt, steps);
    expect(r.tokens).toEqual(greedy);
    expect(r.accepted).toBeLessThanOrEqual(r.proposed);
    expect(r.mainSteps).toBe(steps - 1 - r.accepted);
    // Random MTP weights are no predictor of a random main model: acceptance is chance level (~1/vocab).
    console.info(
      `MTP acceptance on the synthetic model: ${r.accepted}/${r.proposed} = ${(100 * r.acceptanceRate).toFixed(1)}%`,
    );
  });

  it('equals plain greedy when drafts are accepted half the time, and needs fewer main steps', () => {
    const model = session();
    const r = speculativeGreedy(model, new HalfOracle(), prompt, steps);
    expect(r.tokens).toEqual(greedy);
    expect(r.accepted).toBeGreaterThan(5);
    expect(r.mainSteps).toBeLessThan(steps - 1);
  });

  it('handles prompts longer than one batch (chunked prefill feeding the drafter)', () => {
    const model = session(4);
    const r = speculativeGreedy(model, new MtpDrafter(model), prompt, 12);
    expect(r.tokens).toEqual(greedy.slice(0, 12));
  });
});
