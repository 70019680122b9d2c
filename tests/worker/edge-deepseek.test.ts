// A DeepSeek-V3-architecture model directory (MLA + shared/routed MoE + FP8 128×128 blocks + one MTP
// layer; random weights, byte-level tokenizer with DeepSeek's specials and chat template) served by the
// real Worker in workerd from Miniflare's R2: chat and completion answers carry the float64 reference's
// greedy tokens, streaming gives the same text, usage and the ledger count its tokenizer's tokens, and
// MTP speculative decoding (the default) gives the same greedy output as the same model without it.
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticDeepSeekEdgeDir } from '../../engine/deepseek/edge-synthetic';
import { DeepSeekReferenceModel } from '../../engine/deepseek/reference';
import { loadDeepSeekModel } from '../../engine/deepseek/weights';
import { HfTokenizer } from '../../engine/tokenizers/hf-tokenizer';
import { TextStream } from '../../engine/text-stream';
import { call, ledgerOf, provisionKey } from './billing/setup';

const dir = syntheticDeepSeekEdgeDir({ seed: 5 });
const json = (name: string) => JSON.parse(new TextDecoder().decode(dir[name]));
const tok = new HfTokenizer(json('tokenizer.json'), json('tokenizer_config.json'), {
  vocabSize: json('config.json').vocab_size,
});
const reference = new DeepSeekReferenceModel(
  loadDeepSeekModel({
    'config.json': dir['config.json'],
    'model.safetensors': dir['model.safetensors'],
  }),
  { maxSeqLen: 96 },
);
const { key, keyId } = await provisionKey();

async function putDir(id: string, extra: object = {}) {
  for (const [name, bytes] of Object.entries(dir)) await env.MODELS.put(`${id}/${name}`, bytes);
  const manifest = {
    id,
    format: 'hf',
    weights: ['model.safetensors'],
    tokenizer: 'tokenizer.json',
    tokenizer_config: 'tokenizer_config.json',
    context_length: 96,
    created: 1_700_000_000,
    owned_by: 'tests',
    ...extra,
  };
  await env.MODELS.put(`${id}/model.json`, JSON.stringify(manifest));
}

/** The reference's greedy continuation as the API answers it: text up to EOS, the token count, the reason. */
function expected(promptIds: number[], maxTokens: number) {
  const ids = reference.generateGreedy(promptIds, maxTokens);
  const text = new TextStream([]);
  let out = '',
    prev = promptIds[promptIds.length - 1];
  for (let i = 0; i < ids.length; i++) {
    if (tok.stopIds.includes(ids[i]))
      return { text: out + text.flush(), tokens: i + 1, finish: 'stop' };
    out += text.push(tok.decodePiece(prev, ids[i]));
    prev = ids[i];
  }
  return { text: out + text.flush(), tokens: ids.length, finish: 'length' };
}

const post = async (path: string, body: object) =>
  call(`/v1${path}`, { method: 'POST', key, body: JSON.stringify(body) });

describe('a DeepSeek-V3-architecture model directory in R2, served at the edge', () => {
  beforeAll(async () => {
    await putDir('ds-edge-random');
    await putDir('ds-edge-random-nomtp', { mtp: false });
  });

  it('is listed and answers a completion with the reference greedy tokens, counted by its tokenizer', async () => {
    const models = (await (await call('/v1/models', { key })).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toContain('ds-edge-random');
    const prompt = 'Mixture of experts at the edge';
    const res = await post('/completions', {
      model: 'ds-edge-random',
      prompt,
      max_tokens: 20,
      temperature: 0,
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      choices: { text: string; finish_reason: string }[];
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    const promptIds = tok.encode(prompt);
    const want = expected(promptIds, 20);
    expect(want.text.length).toBeGreaterThan(5); // random weights: text, not an immediate EOS
    expect(body.choices[0].text).toBe(want.text);
    expect(body.choices[0].finish_reason).toBe(want.finish);
    expect(body.usage).toMatchObject({
      prompt_tokens: promptIds.length,
      completion_tokens: want.tokens,
    });
    const row = (await ledgerOf(keyId)).at(-1)!;
    expect(row).toMatchObject({
      model: 'ds-edge-random',
      prompt_tokens: promptIds.length,
      completion_tokens: want.tokens,
    });
  });

  it('chat: the DeepSeek chat template, the reference tokens, streamed and whole alike', async () => {
    const messages = [{ role: 'user', content: 'Hello, MLA.' }];
    const promptIds = tok.encode('<｜begin▁of▁sentence｜><｜User｜>Hello, MLA.<｜Assistant｜>', {
      bos: false,
    });
    const want = expected(promptIds, 16);
    const whole = (await (
      await post('/chat/completions', {
        model: 'ds-edge-random',
        messages,
        max_tokens: 16,
        temperature: 0,
      })
    ).json()) as {
      choices: { message: { content: string } }[];
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    expect(whole.choices[0].message.content).toBe(want.text);
    expect(whole.usage).toMatchObject({
      prompt_tokens: promptIds.length,
      completion_tokens: want.tokens,
    });
    const res = await post('/chat/completions', {
      model: 'ds-edge-random',
      messages,
      max_tokens: 16,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const frames = (await res.text())
      .split('\n\n')
      .filter((f) => f.startsWith('data: {'))
      .map((f) => JSON.parse(f.slice(6)));
    const text = frames.map((f) => f.choices?.[0]?.delta?.content ?? '').join('');
    expect(text).toBe(want.text);
    expect(frames.at(-1).usage).toMatchObject({
      prompt_tokens: promptIds.length,
      completion_tokens: want.tokens,
    });
  });

  it('MTP speculative decoding on (default) and off: the same greedy text, stop strings too', async () => {
    const body = { prompt: 'Speculate, then verify.', max_tokens: 40, temperature: 0 };
    const on = (await (
      await post('/completions', { ...body, model: 'ds-edge-random' })
    ).json()) as { choices: { text: string }[] };
    const off = (await (
      await post('/completions', { ...body, model: 'ds-edge-random-nomtp' })
    ).json()) as { choices: { text: string }[] };
    expect(on.choices[0].text).toBe(off.choices[0].text);
    // the prompt cache is off for this engine: a repeated prompt is computed again, never restored
    const again = (await (
      await post('/completions', { ...body, model: 'ds-edge-random' })
    ).json()) as {
      choices: { text: string }[];
      usage: { prompt_cache_hit_tokens: number };
    };
    expect(again.choices[0].text).toBe(on.choices[0].text);
    expect(again.usage.prompt_cache_hit_tokens).toBe(0);
    expect(on.choices[0].text).toBe(expected(tok.encode(body.prompt), 40).text);
    const stop = on.choices[0].text.slice(8, 10);
    const cut = (await (
      await post('/completions', { ...body, model: 'ds-edge-random', stop: [stop] })
    ).json()) as {
      choices: { text: string; finish_reason: string }[];
    };
    expect(cut.choices[0]).toMatchObject({
      text: on.choices[0].text.slice(0, on.choices[0].text.indexOf(stop)),
      finish_reason: 'stop',
    });
  });

  it('sampling with logprobs under speculation: seeded answers repeat; bad input is a 400', async () => {
    const body = {
      model: 'ds-edge-random',
      prompt: 'Sample',
      max_tokens: 12,
      temperature: 0.8,
      seed: 11,
      logprobs: 2,
    };
    const a = (await (await post('/completions', body)).json()) as {
      choices: { text: string; logprobs: { top_logprobs: object[] } }[];
    };
    const b = (await (await post('/completions', body)).json()) as { choices: { text: string }[] };
    expect(a.choices[0].text).toBe(b.choices[0].text);
    expect(a.choices[0].logprobs.top_logprobs.length).toBeGreaterThan(0);
    const bad = await post('/completions', { ...body, max_tokens: 10_000 });
    expect(bad.status).toBe(400);
  });

  it("echo with logprobs scores the prompt: each token's entry is the reference's log-softmax after those before it", async () => {
    // BOS and then more tokens than a step's rows of logits, so the scoring runs in several steps
    const ids = tok.encode('Mixture of experts: scored at the edge, token by token.');
    expect(ids[0]).toBe(tok.bosId);
    const ask = { model: 'ds-edge-random', echo: true, logprobs: 3, max_tokens: 3, temperature: 0 };
    type Lp = {
      tokens: string[];
      token_logprobs: (number | null)[];
      top_logprobs: (Record<string, number> | null)[];
    };
    const answer = async (prompt: number[]) => {
      const res = await post('/completions', { ...ask, prompt });
      expect(res.status).toBe(200);
      return ((await res.json()) as { choices: { text: string; logprobs: Lp }[] }).choices[0];
    };
    const { logprobs: lp } = await answer(ids);
    // BOS is no text and gets no entry
    expect(lp.tokens.length).toBe(ids.length - 1 + 3);
    const V = json('config.json').vocab_size as number,
      logits = reference.forward(ids, 0);
    for (let t = 1; t < ids.length; t++) {
      const row = logits.subarray((t - 1) * V, t * V);
      let max = -Infinity,
        sum = 0;
      for (const v of row) max = Math.max(max, v);
      for (const v of row) sum += Math.exp(v - max);
      const lse = max + Math.log(sum);
      // f32 kernels against the float64 reference, on the same FP8 weights
      expect(lp.token_logprobs[t - 1]).toBeCloseTo(row[ids[t]] - lse, 3);
      // keyed by text: byte tokens that are no whole character share the key '\ufffd'
      const best = Object.values(lp.top_logprobs[t - 1]!);
      expect(best.length).toBeGreaterThan(0);
      for (const v of best) expect(v).toBeLessThan(max - lse + 1e-3);
      if (best.length === 3) expect(Math.max(...best)).toBeCloseTo(max - lse, 3);
    }
    // the generation after the scoring is the plain greedy one: the scoring leaves nothing behind
    const plain = await post('/completions', { ...ask, prompt: ids, echo: false });
    const text = ((await plain.json()) as { choices: { text: string }[] }).choices[0].text;
    expect(lp.tokens.slice(ids.length - 1).join('')).toBe(text);
    // with nothing before its first token, that token's entry is null (OpenAI's)
    const bare = await answer(ids.slice(1));
    expect(bare.logprobs.token_logprobs[0]).toBeNull();
    expect(bare.logprobs.top_logprobs[0]).toBeNull();
    expect(bare.logprobs.token_logprobs[1]).toEqual(expect.any(Number));
  });

  it('structured output under speculation: json_schema and json_object hold, sampled or greedy', async () => {
    const schema = {
      type: 'object',
      properties: { ok: { type: 'boolean' }, n: { type: 'integer', minimum: 0, maximum: 9 } },
      required: ['ok', 'n'],
      additionalProperties: false,
    };
    const formats = [
      { type: 'json_schema', json_schema: { name: 'x', schema, strict: true } },
      { type: 'json_object' },
    ];
    for (const sampling of [{ temperature: 0 }, { temperature: 1, seed: 3 }])
      for (const response_format of formats) {
        const res = await post('/chat/completions', {
          model: 'ds-edge-random',
          messages: [{ role: 'user', content: 'Answer in JSON.' }],
          max_tokens: 60,
          response_format,
          ...sampling,
        });
        const body = (await res.json()) as {
          choices: { message: { content: string }; finish_reason: string }[];
        };
        const content = body.choices[0].message.content;
        // the small schema's object fits in max_tokens; any object may be cut (a valid prefix)
        if (response_format.type === 'json_schema') {
          expect(body.choices[0].finish_reason).toBe('stop');
          expect(Object.keys(JSON.parse(content) as object)).toEqual(['ok', 'n']);
        } else if (body.choices[0].finish_reason === 'length')
          expect(content.trimStart()[0]).toBe('{');
        else expect(JSON.parse(content)).toBeTypeOf('object');
      }
  });
});
