// Long prompts restored from Miniflare's KV inside workerd, through the real Worker (auth,
// metering, SSE) on a stories15M-shaped random-weight model with a 2304-token context: a cached
// run at 256, 1024 and 2048 tokens restores every whole block, and says so in Server-Timing.
// Time to first token is not asserted (a shared machine's load can flip it): it is measured,
// cold vs cached, by bench/prompt-cache-workerd.ts (`npm run bench -- prompt-cache-workerd`).
import { beforeAll, expect, it } from 'vitest';
import {
  STORIES15M_SHAPE,
  syntheticLlama2cCheckpoint,
  syntheticLlama2cTokenizer,
} from '../../../engine/index';
import { call, provisionKey, type TestKey } from '../billing/setup';
import { putModel } from '../seed';
import { saltOf, waitForKeys } from './helpers';

const MODEL = 'bench-15m-2k';
const WORDS = 'the little dog was happy and she played with her friend in the big park one day ';

let k: TestKey;
beforeAll(async () => {
  const shape = { ...STORIES15M_SHAPE, seqLen: 2304 };
  await putModel(
    MODEL,
    syntheticLlama2cCheckpoint(shape, 1),
    syntheticLlama2cTokenizer(shape.vocabSize),
    'stories15M shape, random weights',
  );
});

/** Streams one token; returns the usage of the last frame and the cache's Server-Timing. */
async function firstToken(
  prompt: string,
): Promise<{ promptTokens: number; hits: number; timing: string }> {
  const res = await call('/v1/completions', {
    method: 'POST',
    key: k.key,
    body: JSON.stringify({
      model: MODEL,
      prompt,
      max_tokens: 1,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    }),
  });
  expect(res.status).toBe(200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffered += value;
  }
  const usage = JSON.parse(
    buffered
      .split('\n\n')
      .filter((f) => f.includes('"usage":{'))
      .at(-1)!
      .slice(6),
  ).usage;
  return {
    promptTokens: usage.prompt_tokens,
    hits: usage.prompt_cache_hit_tokens,
    timing: res.headers.get('server-timing') ?? '',
  };
}

it('a cached run restores every whole block of a long prompt', async () => {
  k = await provisionKey();
  const perRepeat = (await firstToken(WORDS)).promptTokens - 1; // also loads the model into the isolate
  for (const target of [256, 1024, 2048]) {
    k = await provisionKey(); // a tenant per prompt: nothing cached from the others
    const prompt = WORDS.repeat(Math.round((target - 1) / perRepeat));
    const cold = await firstToken(prompt);
    expect(cold.hits).toBe(0);
    const blocks = Math.floor(cold.promptTokens / 64);
    await waitForKeys(await saltOf(k.accountId), blocks); // the write-behind, after the response
    const warm = await firstToken(prompt);
    expect(warm.promptTokens).toBe(cold.promptTokens);
    expect(warm.hits).toBe(Math.min(blocks * 64, cold.promptTokens - 1));
    for (const span of ['pc-hash', 'pc-read', 'pc-decode'])
      expect(warm.timing).toMatch(new RegExp(`${span};dur=[\\d.]+`));
  }
});
