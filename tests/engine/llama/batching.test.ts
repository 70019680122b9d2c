// Concurrent generations decode together (engine/decode-batcher.ts, engine/llama/decode-step.ts): each
// one's tokens must be exactly what it produces alone, greedy and seeded sampling, f32/q8/q4 weights and
// the int8 KV cache, prompts across prefill chunks; steps must really batch; an abort leaves the others
// untouched; admission refuses once every session is busy and the queue is full.
import { describe, expect, it } from 'vitest';
import {
  syntheticLlama2cCheckpoint,
  syntheticLlama2cTokenizer,
  type GenerateOptions,
  type LlamaModel,
} from '../../../engine/index';
import type { QuantTarget } from '../../../engine/formats/hf-writer';
import { importLlama2c } from '../../../engine/formats/import-llama2c';
import { PREFILL_CHUNK } from '../../../engine/llama/prefill';
import { readKv, type KvFormat } from '../../../engine/llama/kv-cache';
import { allocSession, forward, type DeviceWeights } from '../../../engine/llama/forward';
import { allocStep, decodeStep } from '../../../engine/llama/decode-step';
import type { KernelBackend } from '../../../kernels-wasm/types';
import { createNodeKernels } from '../../../kernels-wasm/node';
import { throughModelDir } from '../formats/helpers';

const SHAPE = {
  dim: 96,
  hiddenDim: 256,
  nLayers: 2,
  nHeads: 6,
  nKvHeads: 2,
  vocabSize: 320,
  seqLen: 160,
};

async function model(quant: QuantTarget, kvCache: KvFormat = 'f32', maxSessions = 6) {
  const imported = importLlama2c(
    syntheticLlama2cCheckpoint(SHAPE, 7),
    syntheticLlama2cTokenizer(SHAPE.vocabSize),
  );
  return (
    await throughModelDir(await createNodeKernels(), imported, quant, { maxSessions, kvCache })
  ).model;
}

/** Six requests: prompts of 1 to 2 chunks + 9 tokens, various lengths; greedy and seeded sampling. */
const REQUESTS: { prompt: number[]; opts: GenerateOptions }[] = [
  1,
  5,
  40,
  2 * PREFILL_CHUNK + 9,
  3,
  17,
].map((len, i) => ({
  prompt: [1, ...Array.from({ length: len - 1 }, (_, j) => 3 + ((j * 31 + i * 7) % 300))],
  opts:
    i % 2 === 0
      ? { maxTokens: 20 + 7 * i, temperature: 0, topP: 1, stopAtEos: false }
      : { maxTokens: 25 + 3 * i, temperature: 0.9, topP: 0.9, seed: 100 + i, stopAtEos: false },
}));

async function ids(m: LlamaModel, r: (typeof REQUESTS)[number], signal?: AbortSignal) {
  const out: number[] = [];
  for await (const t of m.generate(r.prompt, { ...r.opts, signal })) out.push(t.id);
  return out;
}

describe('decode batching', () => {
  it.each([
    ['f32', 'f32'],
    ['q8', 'f32'],
    ['q4', 'f32'],
    ['q8', 'int8'],
  ] as const)('%s weights, %s KV: concurrent = alone, token for token', async (quant, kv) => {
    const m = await model(quant, kv);
    const alone: number[][] = [];
    for (const r of REQUESTS) alone.push(await ids(m, r));
    const before = { ...m.batcher.stats };
    const together = await Promise.all(REQUESTS.map((r) => ids(m, r)));
    expect(together).toEqual(alone);
    const steps = m.batcher.stats.steps - before.steps;
    const tokens = m.batcher.stats.tokens - before.tokens;
    expect(tokens).toBe(alone.reduce((n, a) => n + a.length, 0));
    // six at once: most steps carry several sequences
    expect(tokens / steps).toBeGreaterThan(3);
  });

  it('an abort mid-batch stops that one and leaves the others exact', async () => {
    const m = await model('q8');
    const single: number[][] = [];
    for (const r of REQUESTS) single.push(await ids(m, r));
    const abort = new AbortController();
    let seen = 0;
    const cut = (async () => {
      const out: number[] = [];
      for await (const t of m.generate(REQUESTS[2].prompt, {
        ...REQUESTS[2].opts,
        signal: abort.signal,
      })) {
        out.push(t.id);
        if (++seen === 5) abort.abort();
      }
      return out;
    })();
    const others = await Promise.all([0, 1, 3, 4].map((i) => ids(m, REQUESTS[i])));
    expect(await cut).toEqual(single[2].slice(0, 5));
    expect(others).toEqual([0, 1, 3, 4].map((i) => single[i]));
  });

  it('refuses once every session is busy and the queue is full, admitted requests counted', async () => {
    const imported = importLlama2c(
      syntheticLlama2cCheckpoint(SHAPE, 7),
      syntheticLlama2cTokenizer(SHAPE.vocabSize),
    );
    const { model: m } = await throughModelDir(await createNodeKernels(), imported, 'q8', {
      maxSessions: 1,
      maxQueue: 1,
    });
    const r = { ...REQUESTS[0], opts: { ...REQUESTS[0].opts, maxTokens: 30 } };
    expect(m.admit()).toBeNull();
    const first = m.generate(r.prompt, r.opts);
    await first.next(); // holds the one session
    expect(m.admit()).toBeNull(); // the queue's one place, held before its generation starts
    expect(m.admit()?.reason).toMatch(/serving 1 requests with 1 waiting/); // a burst: refused at once
    const second = m.generate(r.prompt, r.opts);
    const waiting = second.next(); // now really queued in the pool
    await new Promise((resolve) => setTimeout(resolve, 10));
    const refusal = m.admit();
    expect(refusal?.retryAfterMs).toBeGreaterThan(0);
    expect(refusal?.reason).toMatch(/1 waiting/);
    await first.return(undefined as never);
    await waiting;
    await second.return(undefined as never);
    expect(m.admit()).toBeNull();
  });
});

describe('decodeStep', () => {
  it.each(['f32', 'q8', 'q4'] as const)(
    '%s: the logits and KV rows of each sequence are forward()’s, bit for bit',
    async (quant) => {
      const m = await model(quant);
      const { backend: k, weights: w } = m as unknown as {
        backend: KernelBackend;
        weights: DeviceWeights;
      };
      const c = m.config;
      // five sequences at different positions: each fed its own tokens 0..pos-1 by forward()
      const positions = [0, 3, 17, 40, 9];
      const tokenAt = (i: number, p: number) => 1 + ((p * 13 + i * 29) % 300);
      const make = () =>
        positions.map((pos, i) => {
          const session = allocSession(k, c);
          for (let p = 0; p < pos; p++) forward(k, c, w, session, tokenAt(i, p), p, false);
          return { session, token: tokenAt(i, pos), pos };
        });
      const alone = make(),
        batched = make();
      const bits = (s: (typeof alone)[number]) => [
        ...new Uint32Array(k.f32(s.session.logits, c.vocabSize).slice().buffer),
        ...new Uint32Array(
          Float32Array.from(readKv(k, s.session.kv, c, c.nLayers - 1, 0, s.pos + 1).keys).buffer,
        ),
      ];
      for (const s of alone) forward(k, c, w, s.session, s.token, s.pos);
      decodeStep(k, c, w, allocStep(k, c, positions.length), batched);
      for (let i = 0; i < positions.length; i++) expect(bits(batched[i])).toEqual(bits(alone[i]));
    },
  );
});
