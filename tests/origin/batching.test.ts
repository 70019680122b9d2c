// The scheduler over a recording fake backend: what goes into each step. Decode tokens of running
// sequences and prefill chunks of new ones share steps (a long prompt never stalls the others), new
// requests join at the next step, finished and cancelled ones leave, and the step budget holds.
import { describe, expect, it } from 'vitest';
import type { KvRows, StepBackend, StepSequence } from '../../origin/backend/step-backend';
import { originMetrics } from '../../origin/metrics';
import { ByteTokenizer } from '../../origin/model/byte-tokenizer';
import { PrefixCache, promptBlockKeys } from '../../origin/scheduler/prefix-cache';
import { Scheduler } from '../../origin/scheduler/scheduler';
import type { GenerationRequest, Sequence } from '../../origin/scheduler/sequence';

class RecordingBackend implements StepBackend {
  readonly name = 'fake';
  readonly vocabSize = 300;
  readonly maxSeqLen = 4096;
  readonly steps: { slot: number; n: number; startPos: number; wantLogits: boolean }[][] = [];
  readonly restored: { slot: number; start: number }[] = [];
  private readonly freeSlots = [3, 2, 1, 0];
  constructor(
    readonly maxSlots = 4,
    readonly maxStepTokens = 64,
  ) {}
  allocate() {
    return this.freeSlots.pop() ?? null;
  }
  free(slot: number) {
    this.freeSlots.push(slot);
  }
  async step(batch: readonly StepSequence[]) {
    this.steps.push(
      batch.map((s) => ({
        slot: s.slot,
        n: s.tokens.length,
        startPos: s.startPos,
        wantLogits: s.wantLogits,
      })),
    );
    return batch
      .filter((s) => s.wantLogits)
      .map(() => {
        const logits = new Float64Array(this.vocabSize);
        logits[3 + 97] = 1; // greedy: always 'a'
        return logits;
      });
  }
  saveKv(_slot: number, _start: number, count: number): KvRows {
    return { tokens: count, bytes: count };
  }
  restoreKv(slot: number, start: number) {
    this.restored.push({ slot, start });
  }
}

function setup(backend = new RecordingBackend(), prefillChunk = 32) {
  const cache = new PrefixCache(1 << 20);
  const metrics = originMetrics({
    queueDepth: () => 0,
    active: () => 0,
    cacheBlocks: () => 0,
    cacheBytes: () => 0,
  });
  const tok = new ByteTokenizer(300, 0, 1);
  const scheduler = new Scheduler(backend, cache, tok, metrics, {
    maxQueue: 8,
    prefillChunk,
    requestTimeoutMs: 60_000,
    retryAfterS: 1,
  });
  const request = async (
    prompt: string,
    maxTokens: number,
    salt = '',
  ): Promise<GenerationRequest> => {
    const promptIds = tok.encode(prompt);
    const blockKeys = await promptBlockKeys(
      { tenantSalt: salt, modelId: 'fake', weightsDigest: '00' },
      promptIds,
    );
    return {
      promptIds,
      maxTokens,
      sampling: { temperature: 0, topP: 1 },
      stop: [],
      ignoreEos: true,
      blockKeys,
    };
  };
  return { backend, scheduler, request };
}

async function drain(seq: Sequence): Promise<{ text: string; end: unknown }> {
  let text = '';
  for (;;) {
    const ev = await seq.events.next();
    if (ev.kind === 'text') text += ev.text;
    else return { text, end: ev };
  }
}

describe('scheduler: continuous batching', () => {
  it('interleaves chunked prefill of a long prompt with decode steps of a running sequence', async () => {
    const { backend, scheduler, request } = setup();
    const [reqA, reqB] = [await request('short', 40), await request('x'.repeat(299), 5)];
    const a = scheduler.submit(reqA);
    // Let A prefill and start decoding, then bring a 300-token prompt.
    while (backend.steps.length < 3) await new Promise((r) => setImmediate(r));
    const b = scheduler.submit(reqB);
    const [ra, rb] = await Promise.all([drain(a), drain(b)]);
    expect(ra.text).toBe('a'.repeat(40));
    expect(rb.text).toBe('a'.repeat(5));
    const slotA = backend.steps[0][0].slot;
    const prefillSteps = backend.steps.filter((s) => s.some((e) => e.slot !== slotA && e.n > 1));
    expect(prefillSteps.length).toBe(Math.ceil(300 / 32)); // chunks of --prefill-chunk
    for (const step of prefillSteps) {
      expect(step.find((e) => e.slot === slotA)?.n, 'A decodes in every prefill step').toBe(1);
      expect(step.reduce((n, e) => n + e.n, 0)).toBeLessThanOrEqual(backend.maxStepTokens);
    }
    // B's chunks are contiguous and only the last asks for logits.
    const chunks = prefillSteps.map((s) => s.find((e) => e.slot !== slotA)!);
    chunks.forEach((c, i) => {
      expect(c.startPos).toBe(i * 32);
      expect(c.wantLogits).toBe(i === chunks.length - 1);
    });
  });

  it('admits new requests at the next step and drops finished and cancelled ones', async () => {
    const { backend, scheduler, request } = setup();
    const abort = new AbortController();
    const [reqLong, reqShort] = [await request('long', 1000), await request('short', 3)];
    const long = scheduler.submit(reqLong, abort.signal);
    const short = scheduler.submit(reqShort);
    await drain(short);
    const stepsAfterShort = backend.steps.length;
    expect(backend.steps[0].length, 'both joined the first step').toBe(2);
    expect(backend.steps.at(-1)!.length).toBe(2);
    while (backend.steps.length < stepsAfterShort + 2) await new Promise((r) => setImmediate(r));
    expect(backend.steps.at(-1)!.length, 'the finished one left').toBe(1);
    abort.abort();
    const end = await drain(long);
    expect(end.end).toMatchObject({ kind: 'error', error: { code: 'client_closed' } });
    expect(scheduler.activeCount).toBe(0);
    expect(backend.allocate(), 'its slot is free again').not.toBeNull();
  });

  it('restores cached whole blocks (per salt) and computes only the last prompt token', async () => {
    const { backend, scheduler, request } = setup();
    const prompt = 'p'.repeat(127); // 128 tokens with BOS: two whole blocks
    await drain(scheduler.submit(await request(prompt, 2, 'one')));
    expect(backend.restored).toEqual([]);
    const stepsBefore = backend.steps.length;
    const again = scheduler.submit(await request(prompt, 2, 'one'));
    await drain(again);
    expect(backend.restored.map((r) => r.start)).toEqual([0, 64]);
    // Both blocks restored; the last prompt token is computed all the same, for its logits.
    expect(again.usage()).toMatchObject({ prompt_tokens: 128, prompt_cache_hit_tokens: 127 });
    expect(backend.steps[stepsBefore][0]).toMatchObject({ n: 1, startPos: 127, wantLogits: true });
    const other = scheduler.submit(await request(prompt, 2, 'two'));
    await drain(other);
    expect(other.usage().prompt_cache_hit_tokens).toBe(0);
  });
});
