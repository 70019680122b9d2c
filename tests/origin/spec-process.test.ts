// Speculative decoding end to end: the real origin process on synthetic:tiny-mtp (tiny plus one MTP layer)
// serves with MTP drafts by default and says so (startup line, /health, /metrics), greedy text under
// concurrent batching equals the unbatched reference model's, sampled requests complete; in-process, a
// checkpoint without MTP weights and --spec off serve without speculation and say why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrigin } from '../../origin/start';
import { parseOriginArgs, UsageError } from '../../origin/options';
import type { ChatCompletion, Completion } from '../../protocol/responses';
import { metric, parsePrometheus, startOrigin, type RunningOrigin } from './helpers';
import { referenceGreedyText, syntheticWeights } from './reference-text';

const weights = syntheticWeights('tiny-mtp');
const N = 32;

describe('origin process with MTP speculative decoding', () => {
  let origin: RunningOrigin;
  beforeAll(async () => {
    origin = await startOrigin(['--model', 'synthetic:tiny-mtp', '--max-seqs', '8']);
  });
  afterAll(async () => {
    await origin?.stop();
  });

  it('says so on the startup line and /health', async () => {
    expect(origin.output()).toMatch(/speculative decoding mtp/);
    const health = (await (await fetch(`${origin.url}/health`)).json()) as Record<string, unknown>;
    expect(health.speculative_decoding).toBe('mtp');
  });

  it('greedy text equals the reference under batching; sampled requests complete; metrics count drafts', async () => {
    const prompts = Array.from(
      { length: 6 },
      (_, i) => `Speculate ${i}: ${'xyz'.repeat(i)} and so on`,
    );
    const sampled = new Set([1, 4]);
    const bodies = await Promise.all(
      prompts.map(async (prompt, i) => {
        const res = await fetch(`${origin.url}/v1/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'synthetic-tiny-mtp',
            prompt,
            max_tokens: N,
            ignore_eos: true,
            ...(sampled.has(i)
              ? { temperature: 0.8, top_k: 40, presence_penalty: 0.5, seed: i }
              : { temperature: 0 }),
          }),
        });
        expect(res.status).toBe(200);
        return (await res.json()) as Completion;
      }),
    );
    bodies.forEach((body, i) => {
      expect(body.usage!.completion_tokens).toBe(N);
      expect(body.choices[0].finish_reason).toBe('length');
      if (!sampled.has(i))
        expect(body.choices[0].text).toBe(referenceGreedyText(weights, prompts[i], N));
    });
    const { samples, types } = parsePrometheus(await (await fetch(`${origin.url}/metrics`)).text());
    expect(types.get('spec_decode_num_draft_tokens_total')).toBe('counter');
    const drafted = metric(samples, 'spec_decode_num_draft_tokens_total');
    const accepted = metric(samples, 'spec_decode_num_accepted_tokens_total');
    // every decode step after a sequence's first token checks one draft (emitting 2 tokens when it is
    // accepted), except perhaps the last, which has no use for a draft
    expect(drafted + accepted).toBeGreaterThanOrEqual(prompts.length * (N - 2));
    expect(drafted + accepted).toBeLessThanOrEqual(prompts.length * (N - 1));
    expect(accepted).toBeLessThanOrEqual(drafted);
    console.info(`origin: MTP drafts accepted ${accepted}/${drafted} (random MTP weights)`);
  });

  it('a prefix-cache hit (restored rows have no MTP rows: worse drafts only) gives the same greedy text', async () => {
    const prompt = `A shared system prompt. ${'The quick brown fox jumps over the lazy dog. '.repeat(12)}`;
    const ask = async () => {
      const res = await fetch(`${origin.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'synthetic-tiny-mtp',
          prompt,
          max_tokens: 12,
          temperature: 0,
          ignore_eos: true,
        }),
      });
      return (await res.json()) as Completion;
    };
    const cold = await ask(),
      warm = await ask();
    expect(warm.usage!.prompt_cache_hit_tokens).toBeGreaterThan(0);
    expect(warm.choices[0].text).toBe(cold.choices[0].text);
    expect(cold.choices[0].text).toBe(referenceGreedyText(weights, prompt, 12));
  });

  it('a constrained sequence gets no drafts (they would bypass its grammar) and its JSON validates', async () => {
    // one retry: a keep-alive socket the server closed while idle can fail the first fetch
    const metrics = () =>
      fetch(`${origin.url}/metrics`).catch(() => fetch(`${origin.url}/metrics`));
    const drafts = async () =>
      metric(
        parsePrometheus(await (await metrics()).text()).samples,
        'spec_decode_num_draft_tokens_total',
      );
    const before = await drafts();
    const schema = {
      type: 'object',
      properties: { s: { enum: ['x', 'y'] }, n: { type: 'integer', minimum: 0, maximum: 9 } },
      required: ['s', 'n'],
      additionalProperties: false,
    };
    const bodies = await Promise.all(
      [0, 1, 2].map(async (seed) => {
        const res = await fetch(`${origin.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'synthetic-tiny-mtp',
            messages: [{ role: 'user', content: `json ${seed}` }],
            response_format: { type: 'json_schema', json_schema: { name: 'r', schema } },
            max_tokens: 60,
            temperature: seed ? 0.9 : 0,
            seed,
          }),
        });
        expect(res.status).toBe(200);
        return (await res.json()) as ChatCompletion;
      }),
    );
    for (const body of bodies) {
      expect(body.choices[0].finish_reason).toBe('stop');
      const v = JSON.parse(body.choices[0].message.content!) as { s: string; n: number };
      expect(['x', 'y']).toContain(v.s);
      expect(Number.isInteger(v.n) && v.n >= 0 && v.n <= 9).toBe(true);
      expect(body.usage!.completion_tokens).toBeGreaterThan(2);
    }
    expect(await drafts()).toBe(before);
  });
});

describe('origin without speculation', () => {
  it('a checkpoint without MTP weights, and --spec off, serve without it and say why', async () => {
    const plain = await createOrigin(
      parseOriginArgs(['--model', 'synthetic:tiny', '--backend', 'cpu']),
    );
    expect(plain.summary).toMatch(/speculative decoding off \(the checkpoint has no MTP weights\)/);
    const off = await createOrigin(
      parseOriginArgs(['--model', 'synthetic:tiny-mtp', '--backend', 'cpu', '--spec', 'off']),
    );
    expect(off.summary).toMatch(/speculative decoding off \(--spec off\)/);
    const health = (await (await off.app.request('/health')).json()) as Record<string, unknown>;
    expect(health.speculative_decoding).toBe('off');
    expect(() => parseOriginArgs(['--model', 'synthetic:tiny', '--spec', 'eagle'])).toThrow(
      UsageError,
    );
  });
});
