// Sampling with speculation through the scheduler keeps the model's distribution: a fake backend on an
// 8-token vocabulary whose main logits (p) and draft logits (q) are fixed, so every token after a
// sequence's first is drawn through the draft/verify path (the draft accepted, or the residual on
// rejection, or the token after an accepted draft) and must follow p. Over 1200 seeded sequences of 8
// tokens: chi-square against p, both verify outcomes seen, and the metrics count every draft checked;
// with 16 slots (verify steps ask for the draft row's logits once it stood), with 2 (few decoding
// sequences: verify steps ask for both rows' logits at once), and with draft logits -Infinity off a
// draft vocabulary (engine/deepseek/draft-vocab.ts: q is zero on p's likeliest token among others).
import { describe, expect, it } from 'vitest';
import type { DraftSequence, StepBackend, StepSequence } from '../../origin/backend/step-backend';
import { originMetrics } from '../../origin/metrics';
import type { OriginTokenizer } from '../../origin/model/byte-tokenizer';
import { PrefixCache } from '../../origin/scheduler/prefix-cache';
import { Scheduler } from '../../origin/scheduler/scheduler';
import type { Sequence } from '../../origin/scheduler/sequence';
import { SpecSampler } from '../../engine/sampling/spec-sampler';

const V = 8;
const P = Float32Array.from([1.0, 0.2, -0.3, 1.8, 0.7, -1.0, 0.4, 1.2]);
const Q = Float32Array.from([0.1, 1.4, 0.3, 0.6, 2.0, 0.2, -0.5, 0.9]);
/** Q over a draft vocabulary of five ids: 0, 3 (p's likeliest) and 6 are never drafted. */
const Q_LISTED = Q.map((x, i) => ([0, 3, 6].includes(i) ? -Infinity : x));
const sampling = { temperature: 1, topP: 1, topK: 6 };

class FixedBackend implements StepBackend {
  readonly name = 'fixed';
  readonly vocabSize = V;
  readonly maxSeqLen = 64;
  readonly maxStepTokens = 64;
  private readonly slots: number[];
  /** Verify entries seen, by the logits they asked for. */
  readonly verifies = { allLogits: 0, firstLogits: 0 };
  constructor(
    readonly maxSlots: number,
    private readonly q: Float32Array,
  ) {
    this.slots = Array.from({ length: maxSlots }, (_, i) => i);
  }
  allocate = () => this.slots.pop() ?? null;
  free = (slot: number) => void this.slots.push(slot);
  saveKv = (_s: number, _st: number, count: number) => ({ tokens: count, bytes: 0 });
  restoreKv = () => {};
  async step(batch: readonly StepSequence[]) {
    for (const s of batch) {
      if (s.allLogits) this.verifies.allLogits++;
      if (s.firstLogits) this.verifies.firstLogits++;
    }
    return batch.flatMap((s) =>
      (s.allLogits ? Array.from(s.tokens) : s.wantLogits ? [0] : []).map(() => P),
    );
  }
  readonly drafter = {
    name: 'fixed-q',
    draft: async (batch: readonly DraftSequence[]) =>
      batch.filter((d) => d.wantLogits).map(() => this.q),
    rowLogits: async (rows: readonly number[]) => rows.map(() => P),
  };
}

const ids: OriginTokenizer = {
  name: 'byte-fallback',
  description: 'test ids: token i is the letter A + i',
  chatTemplate: null,
  bosId: null,
  eosId: null,
  encode: () => [],
  encodeAsync: async () => [],
  decode: (id) => new TextEncoder().encode(String.fromCharCode(65 + id)),
};

async function tokens(s: Sequence): Promise<number[]> {
  let text = '';
  for (;;) {
    const e = await s.events.next();
    if (e.kind === 'text') text += e.text;
    else if (e.kind === 'end') return [...text].map((c) => c.charCodeAt(0) - 65);
    else throw new Error(e.error.message);
  }
}

describe('speculative sampling through the scheduler', () => {
  it.each([
    [16, 'firstLogits', Q, 'q'],
    [2, 'allLogits', Q, 'q'],
    [16, 'firstLogits', Q_LISTED, 'q over a draft vocabulary'],
  ] as const)(
    'tokens drawn through draft and verify follow p (%i slots: %s, %s)',
    async (slots, path, q, _what) => {
      const metrics = originMetrics({
        queueDepth: () => 0,
        active: () => 0,
        cacheBlocks: () => 0,
        cacheBytes: () => 0,
      });
      const opts = {
        maxQueue: 2000,
        prefillChunk: 16,
        requestTimeoutMs: 600_000,
        retryAfterS: 1,
        speculative: true,
      };
      const backend = new FixedBackend(slots, q);
      const scheduler = new Scheduler(backend, new PrefixCache(0), ids, metrics, opts);
      const N = 1200,
        L = 8;
      const runs = Array.from({ length: N }, (_, i) =>
        tokens(
          scheduler.submit({
            promptIds: [1, 2, 3],
            maxTokens: L,
            sampling: { ...sampling, seed: i + 1 },
            stop: [],
            ignoreEos: true,
            blockKeys: [],
          }),
        ),
      );
      const counts = Array<number>(V).fill(0);
      for (const t of await Promise.all(runs)) {
        expect(t).toHaveLength(L);
        for (const id of t.slice(1)) counts[id]++;
      }
      const p = new Float64Array(V);
      new SpecSampler(V, sampling, 1).distribution(P, p);
      const total = N * (L - 1);
      let chi2 = 0,
        df = -1;
      for (let i = 0; i < V; i++) {
        if (p[i] === 0) {
          expect(counts[i], `token ${i} is cut by top_k`).toBe(0);
          continue;
        }
        chi2 += (counts[i] - p[i] * total) ** 2 / (p[i] * total);
        df++;
      }
      expect(df).toBe(5);
      expect(chi2).toBeLessThan(20.52); // chi-square 0.999 quantile, 5 degrees of freedom
      const drafted = metrics.specDraftTokens.get(),
        accepted = metrics.specAcceptedTokens.get();
      // each draft checked emits 1 token, 2 when accepted; a sequence's last token may come without a draft
      expect(drafted + accepted).toBeLessThanOrEqual(total);
      expect(drafted + accepted).toBeGreaterThanOrEqual(total - N);
      expect(accepted).toBeGreaterThan(0.1 * drafted);
      expect(accepted).toBeLessThan(0.9 * drafted);
      expect(backend.verifies[path]).toBeGreaterThan(0.5 * drafted);
    },
  );
});
