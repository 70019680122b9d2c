// Speculative decoding in the scheduler over the real CPU backend (synthetic tiny-mtp: tiny plus one MTP
// layer). Greedy output must be the main model's own greedy tokens whatever the drafts are: with the
// checkpoint's MTP drafter (random weights: drafts rarely accepted) and with an oracle drafter that is right
// every other time (so the accept path, two tokens per step, runs often), several sequences batched
// together with chunked prefill, and two at a time (verify steps then ask for both rows' logits).
// Tokens are read back exactly through a tokenizer that prints ids.
import { describe, expect, it } from 'vitest';
import { WasmDeepSeekModel } from '../../engine/deepseek/wasm-model';
import { loadKernelsModule } from '../../kernels-wasm/node';
import { CpuBackend } from '../../origin/backend/cpu-backend';
import type { DraftSequence, StepBackend } from '../../origin/backend/step-backend';
import { originMetrics } from '../../origin/metrics';
import type { OriginTokenizer } from '../../origin/model/byte-tokenizer';
import { PrefixCache } from '../../origin/scheduler/prefix-cache';
import { Scheduler } from '../../origin/scheduler/scheduler';
import type { Sequence } from '../../origin/scheduler/sequence';
import { syntheticFiles } from './reference-text';

const files = syntheticFiles('tiny-mtp');
const V: number = JSON.parse(new TextDecoder().decode(files['config.json'])).vocab_size;
const N = 24;
const prompts = [
  [1, 40, 41, 42],
  Array.from({ length: 37 }, (_, i) => (i * 7 + 1) % V), // three prefill chunks of 16
  [1, 300, 301],
  [1, 9],
];

/** Decodes token ids as `<id>`, so the streamed text gives back the exact tokens. */
const idTokenizer: OriginTokenizer = {
  name: 'byte-fallback',
  description: 'test ids: token i is the letter A + i',
  chatTemplate: null,
  bosId: null,
  eosId: null,
  encode: () => [],
  encodeAsync: async () => [],
  decode: (id) => new TextEncoder().encode(`<${id}>`),
};

async function greedyAlone(): Promise<number[][]> {
  const m = await WasmDeepSeekModel.load(await loadKernelsModule(), files, { maxSeqLen: 128 });
  return prompts.map((p) => m.generateGreedy(p, N));
}

async function drain(s: Sequence): Promise<number[]> {
  let text = '';
  for (;;) {
    const e = await s.events.next();
    if (e.kind === 'text') text += e.text;
    else if (e.kind === 'end') break;
    else throw new Error(e.error.message);
  }
  return [...text.matchAll(/<(\d+)>/g)].map((m) => Number(m[1]));
}

/** Runs every prompt at once through a scheduler; returns each one's tokens and the metrics. */
async function serve(backend: StepBackend, speculative: boolean) {
  const metrics = originMetrics({
    queueDepth: () => 0,
    active: () => 0,
    cacheBlocks: () => 0,
    cacheBytes: () => 0,
  });
  const opts = {
    maxQueue: 8,
    prefillChunk: 16,
    requestTimeoutMs: 60_000,
    retryAfterS: 1,
    speculative,
  };
  const scheduler = new Scheduler(backend, new PrefixCache(0), idTokenizer, metrics, opts);
  const sampling = { temperature: 0, topP: 1 };
  const seqs = prompts.map((promptIds) =>
    scheduler.submit({
      promptIds,
      maxTokens: N,
      sampling,
      stop: [],
      ignoreEos: true,
      blockKeys: [],
    }),
  );
  const tokens = await Promise.all(seqs.map(drain));
  return {
    tokens,
    drafted: metrics.specDraftTokens.get(),
    accepted: metrics.specAcceptedTokens.get(),
  };
}

const cpu = (mtp: boolean, maxSlots = 4) =>
  CpuBackend.create(files, { maxSlots, maxSeqLen: 128, maxStepTokens: 32, mtp });

/** The CPU backend with its drafter replaced: the true next greedy token on every other draft. */
function oracleBackend(inner: CpuBackend, truth: number[][]): StepBackend {
  const slotPrompt = new Map<number, number>();
  let calls = 0;
  const draft = async (batch: readonly DraftSequence[]) => {
    await inner.drafter!.draft(batch); // keeps the MTP caches as they would be
    for (const d of batch)
      // a prompt's first chunk names it (second tokens differ)
      if (d.startPos === 0)
        slotPrompt.set(
          d.slot,
          prompts.findIndex((p) => p[1] === d.nextTokens[0]),
        );
    return batch
      .filter((d) => d.wantLogits)
      .map((d) => {
        const p = slotPrompt.get(d.slot)!;
        const at = d.startPos + d.nextTokens.length + 1 - prompts[p].length; // index of the drafted token
        const want = truth[p][Math.min(at, N - 1)];
        const logits = new Float32Array(V);
        logits[calls++ % 2 === 0 ? want : (want + 1) % V] = 1;
        return logits;
      });
  };
  const { rowLogits } = inner.drafter!; // the rows of drafts that stood: the model's own logits
  return Object.assign(Object.create(inner) as StepBackend, {
    drafter: { name: 'oracle', draft, rowLogits },
  });
}

describe('speculative decoding over the CPU backend', () => {
  it('greedy tokens with the MTP drafter equal plain greedy decoding, batched', async () => {
    const want = await greedyAlone();
    const plain = await serve(await cpu(false), true); // no MTP weights placed: no drafter, no speculation
    expect(plain.tokens).toEqual(want);
    expect(plain.drafted).toBe(0);
    const spec = await serve(await cpu(true), true);
    expect(spec.tokens).toEqual(want);
    expect(spec.drafted).toBeGreaterThan(prompts.length * (N / 2 - 1));
    expect(spec.accepted).toBeLessThanOrEqual(spec.drafted);
    console.info(`MTP (random weights) drafts accepted: ${spec.accepted}/${spec.drafted}`);
  });

  it('greedy tokens equal plain greedy when half the drafts are right (accepts emit 2 tokens a step)', async () => {
    const want = await greedyAlone();
    const r = await serve(oracleBackend(await cpu(true), want), true);
    expect(r.tokens).toEqual(want);
    expect(r.accepted).toBeGreaterThan(r.drafted / 3);
    expect(r.accepted).toBeLessThan(r.drafted);
  });

  it('two sequences at a time: verify steps ask for both rows at once, the same greedy tokens', async () => {
    const want = await greedyAlone();
    const backend = oracleBackend(await cpu(true, 2), want);
    let eager = 0;
    const step = backend.step.bind(backend);
    backend.step = (batch) => {
      eager += batch.filter((e) => e.allLogits).length;
      return step(batch);
    };
    const r = await serve(backend, true);
    expect(r.tokens).toEqual(want);
    expect(eager).toBeGreaterThan(r.drafted / 2);
    expect(r.accepted).toBeGreaterThan(r.drafted / 3);
  });
});
