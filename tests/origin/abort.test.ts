// The real origin process: a client that abandons a JSON (non-streaming) request stops its sequence
// at once, as a streaming client does (the slot is freed, decoding ends well before max_tokens).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metric, parsePrometheus, startOrigin, waitFor, type RunningOrigin } from './helpers';

const MODEL = 'synthetic-tiny';
const MAX_TOKENS = 1500;

describe('origin process: an abandoned JSON request', () => {
  let origin: RunningOrigin;
  beforeAll(async () => {
    origin = await startOrigin(['--model', 'synthetic:tiny']);
  });
  afterAll(async () => {
    await origin?.stop();
  });

  const health = async () =>
    (await (await fetch(`${origin.url}/health`)).json()) as { active_sequences: number };
  const completionTokens = async () =>
    metric(
      parsePrometheus(await (await fetch(`${origin.url}/metrics`)).text()).samples,
      'origin_completion_tokens_total',
    );
  const post = (signal?: AbortSignal) =>
    fetch(`${origin.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        prompt: 'A long story',
        max_tokens: MAX_TOKENS,
        temperature: 0,
        ignore_eos: true,
      }),
      signal,
    });

  it('stops decoding when the client goes away, and counts only the tokens produced', async () => {
    const t = Date.now();
    const full = await post();
    expect(((await full.json()) as any).usage.completion_tokens).toBe(MAX_TOKENS);
    const fullMs = Date.now() - t;
    const before = await completionTokens();
    const abort = new AbortController();
    const pending = post(abort.signal).catch((e: Error) => e);
    await waitFor(async () => (await health()).active_sequences === 1, 10_000, 'the sequence');
    await new Promise((r) => setTimeout(r, fullMs / 6));
    abort.abort();
    expect(await pending).toBeInstanceOf(Error);
    await waitFor(async () => (await health()).active_sequences === 0, 10_000, 'the slot');
    const counted = (await completionTokens()) - before;
    // The metric counts what was produced: some tokens, not all of them.
    expect(counted).toBeGreaterThan(0);
    expect(counted).toBeLessThan(MAX_TOKENS);
  });
});
