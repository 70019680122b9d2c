// The origin in-process (createOrigin + app.request, no sockets): stop strings, seeded sampling,
// per-request timeouts, and a non-streaming client that goes away.
import { beforeAll, describe, expect, it } from 'vitest';
import { parseOriginArgs } from '../../origin/options';
import { createOrigin, type Origin } from '../../origin/start';
import type { Completion } from '../../protocol/responses';
import { readSse, waitFor } from './helpers';
import { referenceGreedyText, syntheticWeights, tokenizerOf } from './reference-text';

const weights = syntheticWeights('tiny');

async function start(extra: string[] = []): Promise<Origin> {
  return createOrigin(parseOriginArgs(['--model', 'synthetic:tiny', '--max-seqs', '4', ...extra]));
}

const complete = (o: Origin, body: object, signal?: AbortSignal) =>
  o.app.request('/v1/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'synthetic-tiny', ...body }),
    signal,
  });

describe('origin in-process', () => {
  let origin: Origin;
  beforeAll(async () => {
    origin = await start();
  });

  it('ends before a stop string and leaves it out', async () => {
    const prompt = 'Stop strings: ';
    const full = referenceGreedyText(weights, prompt, 24);
    // A stop string: a character from the middle of the greedy text, at its first occurrence.
    const chars = [...full];
    const at = chars.findIndex(
      (ch, i) =>
        i >= 3 && ch !== '\uFFFD' && full.indexOf(ch) === chars.slice(0, i).join('').length,
    );
    expect(at, `a usable character in ${JSON.stringify(full)}`).toBeGreaterThan(0);
    const res = await complete(origin, {
      prompt,
      max_tokens: 24,
      temperature: 0,
      ignore_eos: true,
      stop: [chars[at]],
    });
    const body = (await res.json()) as Completion;
    expect(body.choices[0]).toMatchObject({
      text: chars.slice(0, at).join(''),
      finish_reason: 'stop',
    });
  });

  it('samples reproducibly with a seed', async () => {
    const ask = async (seed: number) => {
      const res = await complete(origin, {
        prompt: 'Seeded',
        max_tokens: 16,
        temperature: 1,
        top_p: 0.95,
        seed,
        ignore_eos: true,
      });
      return ((await res.json()) as Completion).choices[0].text;
    };
    // One after another: batched together, their prompts may share a step of another shape, and the
    // kernels' f32 sums depend on the step's shape (docs/origin.md), which can move a sample at a CDF edge.
    const a = await ask(7);
    const b = await ask(7);
    const c = await ask(8);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });

  it('stops a non-streaming request whose client went away and frees its slot', async () => {
    const abort = new AbortController();
    const pending = complete(
      origin,
      { prompt: 'Never read', max_tokens: 1900, temperature: 0, ignore_eos: true },
      abort.signal,
    );
    await waitFor(
      async () => origin.context.scheduler.activeCount === 1,
      5000,
      'the request to run',
    );
    abort.abort();
    await waitFor(
      async () => origin.context.scheduler.activeCount === 0,
      5000,
      'the slot to be freed',
    );
    expect((await pending).status).toBe(499);
  });
});

describe('origin in-process: request timeout', () => {
  let origin: Origin;
  beforeAll(async () => {
    origin = await start(['--request-timeout', '0.05']);
  });

  it('ends a stream that outlives its timeout with an error frame, and a JSON request with 504', async () => {
    const stream = await complete(origin, {
      prompt: 'Slow',
      max_tokens: 1900,
      temperature: 0,
      ignore_eos: true,
      stream: true,
    });
    expect(stream.status).toBe(200);
    const frames = await readSse(stream);
    expect(frames.at(-1)).toMatchObject({ error: { code: 'timeout', type: 'server_error' } });
    const json = await complete(origin, {
      prompt: 'Slow',
      max_tokens: 1900,
      temperature: 0,
      ignore_eos: true,
    });
    expect(json.status).toBe(504);
    expect(await json.json()).toMatchObject({ error: { code: 'timeout' } });
    expect(origin.context.scheduler.activeCount).toBe(0);
  });
});

describe('origin in-process: the Worker API extras', () => {
  let origin: Origin;
  beforeAll(async () => {
    origin = await start();
  });

  it('reports logprobs (chat and completions, JSON and SSE) for the greedy tokens it returns', async () => {
    const chat = await origin.app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'synthetic-tiny',
        messages: [{ role: 'user', content: 'logprobs' }],
        max_tokens: 6,
        temperature: 0,
        ignore_eos: true,
        logprobs: true,
        top_logprobs: 2,
      }),
    });
    const body = (await chat.json()) as {
      choices: {
        message: { content: string };
        logprobs: {
          content: {
            token: string;
            logprob: number;
            bytes: number[];
            top_logprobs: { logprob: number }[];
          }[];
        };
      }[];
    };
    const entries = body.choices[0].logprobs.content;
    expect(entries).toHaveLength(6);
    for (const e of entries) {
      expect(e.top_logprobs).toHaveLength(2);
      expect(e.logprob).toBe(e.top_logprobs[0].logprob); // greedy: the chosen token is the most likely one
      expect(e.logprob).toBeLessThanOrEqual(0);
    }
    const stream = await complete(origin, {
      prompt: 'logprobs',
      max_tokens: 6,
      temperature: 0,
      ignore_eos: true,
      logprobs: 1,
      stream: true,
    });
    const frames = (await readSse(stream)).slice(0, -1) as {
      choices: { logprobs: { tokens: string[]; token_logprobs: number[] } | null }[];
    }[];
    const tokens = frames.flatMap((f) => f.choices[0]?.logprobs?.tokens ?? []);
    expect(tokens).toHaveLength(6);
  });

  it('applies logit_bias, and cache: false neither restores nor stores blocks', async () => {
    const forced = await complete(origin, {
      prompt: 'bias',
      max_tokens: 4,
      temperature: 0,
      ignore_eos: true,
      logit_bias: { [tokenizerOf(weights).encode('A', { bos: false })[0]]: 100 },
    });
    expect(((await forced.json()) as Completion).choices[0].text).toBe('AAAA');
    const prompt = ' n'.repeat(200); // 200 tokens + BOS
    const ask = async (cache: boolean) =>
      (
        (await (
          await complete(origin, { prompt, max_tokens: 2, temperature: 0, cache })
        ).json()) as Completion
      ).usage!;
    expect((await ask(false)).prompt_cache_hit_tokens).toBe(0);
    expect((await ask(false)).prompt_cache_hit_tokens).toBe(0);
    expect((await ask(true)).prompt_cache_hit_tokens).toBe(0);
    expect((await ask(true)).prompt_cache_hit_tokens).toBe(192);
    const bad = await complete(origin, { prompt, logit_bias: { [weights.config.vocabSize]: 1 } });
    expect(bad.status).toBe(400);
  });
});
