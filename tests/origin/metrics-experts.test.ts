// The origin process with expert parallelism and its observability: --ep 2 --ep-redundant 1 with a
// rebalance every second (EPLB placements swapped while requests run), the vLLM-named latency histograms
// (one TTFT / e2e / queue-time observation per request, one inter-token gap per further token), the
// per-expert counters and imbalance gauges, and /admin/experts behind --admin-token (401 without it).
// Greedy outputs are the same before and after the placement changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metric, parsePrometheus, startOrigin, type RunningOrigin } from './helpers';

const TOKEN = 'test-admin-token';
const prompts = ['The quick brown fox', 'Edge inference', 'Mixture of experts routes each token'];

describe('origin expert metrics, admin and --ep', () => {
  let origin: RunningOrigin;
  const complete = async (prompt: string) => {
    const res = await fetch(`${origin.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'synthetic-tiny',
        prompt,
        max_tokens: 6,
        temperature: 0,
        ignore_eos: true,
      }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as {
      choices: { text: string }[];
      usage: { completion_tokens: number };
    };
  };
  const admin = (path: string, method = 'GET', token: string | null = TOKEN) =>
    fetch(`${origin.url}/admin${path}`, {
      method,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  const scrape = async () => parsePrometheus(await (await fetch(`${origin.url}/metrics`)).text());

  beforeAll(async () => {
    origin = await startOrigin(
      ['--model', 'synthetic:tiny', '--ep', '2', '--ep-redundant', '1', '--ep-rebalance-s', '1'],
      120_000,
      { ORIGIN_ADMIN_TOKEN: TOKEN },
    );
  });
  afterAll(async () => {
    await origin?.stop();
  });

  it('records latency histograms and expert counts; greedy text survives placement swaps', async () => {
    const first = await Promise.all(prompts.map(complete));
    await new Promise((r) => setTimeout(r, 2500)); // at least one EPLB rebalance from the measured load
    const body = (await (await admin('/experts')).json()) as {
      layers: { layer: number; tokens: number; imbalance: number; counts: number[] }[];
      ep: { ranks: number; redundant_per_rank: number; placement: { slots: number[][] }[] };
    };
    expect(body.ep.ranks).toBe(2);
    expect(body.ep.placement[0].slots.map((s) => s.length)).toEqual([5, 5]); // 8 experts / 2 + 1
    const second = await Promise.all(prompts.map(complete));
    expect(second.map((r) => r.choices[0].text)).toEqual(first.map((r) => r.choices[0].text));

    const { samples, types } = await scrape();
    const n = 2 * prompts.length,
      tokens = [...first, ...second].reduce((a, r) => a + r.usage.completion_tokens, 0);
    expect(types.get('vllm:time_to_first_token_seconds')).toBe('histogram');
    expect(metric(samples, 'vllm:time_to_first_token_seconds_count')).toBe(n);
    expect(metric(samples, 'vllm:e2e_request_latency_seconds_count')).toBe(n);
    expect(metric(samples, 'vllm:request_queue_time_seconds_count')).toBe(n);
    expect(metric(samples, 'vllm:inter_token_latency_seconds_count')).toBe(tokens - n);
    // tiny: one MoE layer (1), 8 experts, top-2: every routed token counted twice.
    const routed = metric(samples, 'origin_moe_expert_tokens_total', { layer: '1' });
    expect(routed).toBeGreaterThan(0);
    expect(routed % 2).toBe(0);
    expect(samples.filter((s) => s.name === 'origin_moe_expert_tokens_total')).toHaveLength(8);
    expect(metric(samples, 'origin_moe_expert_imbalance', { layer: '1' })).toBeGreaterThanOrEqual(
      1,
    );
  });

  it('guards /admin with the token; reset starts a new window, the counter keeps its total', async () => {
    for (const res of [
      await admin('/experts', 'GET', null),
      await admin('/experts', 'GET', 'wrong'),
    ]) {
      expect(res.status).toBe(401);
      const err = (await res.json()) as { error: { type: string; message: string } };
      expect(err.error.type).toBe('authentication_error');
    }
    expect((await admin('/experts/reset', 'POST', null)).status).toBe(401);
    const before = (await (await admin('/experts')).json()) as {
      layers: { tokens: number; counts: number[] }[];
    };
    const total = metric((await scrape()).samples, 'origin_moe_expert_tokens_total');
    expect(before.layers[0].tokens).toBe(total); // no reset yet: the window is the lifetime
    expect((await admin('/experts/reset', 'POST')).status).toBe(200);
    const after = (await (await admin('/experts')).json()) as {
      layers: { tokens: number; imbalance: number }[];
    };
    expect(after.layers[0]).toMatchObject({ tokens: 0, imbalance: 0 });
    expect(metric((await scrape()).samples, 'origin_moe_expert_tokens_total')).toBe(total);
  });
});
