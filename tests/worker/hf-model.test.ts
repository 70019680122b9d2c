// Models in the HF layout served by the real Worker in workerd: weights streamed from Miniflare's R2
// into WASM memory, the model's Jinja chat template, the full set of sampling fields and logprobs,
// through the official openai client.
import { env, exports } from 'cloudflare:workers';
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { llamaConfig } from '../../engine/llama/config';
import { importLlama2c } from '../../engine/formats/import-llama2c';
import { planModelDir } from '../../engine/formats/model-dir-writer';
import { safetensorsBytes, type QuantTarget } from '../../engine/formats/hf-writer';
import type { ImportedModel } from '../../engine/formats/imported-model';
import { HfTokenizer } from '../../engine/tokenizers/hf-tokenizer';
import { ChatTemplate, chatTemplateSource } from '../../engine/tokenizers/chat-template';
import { syntheticHfModel } from '../engine/formats/hf-reference';
import { byteLevelTokenizer } from '../engine/tokenizers/fixtures';
import { provisionKey } from './billing/setup';
import { seedStories260k, sharedModelsPresent, skipReason } from './seed';

const { key } = await provisionKey();
const client = new OpenAI({
  baseURL: 'http://edge.test/v1',
  apiKey: key,
  fetch: (url, init) => exports.default.fetch(new Request(url, init)),
  maxRetries: 0,
});
const post = (path: string, body: object) =>
  exports.default.fetch(
    new Request(`http://edge.test/v1${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    }),
  );

async function putModelDir(id: string, m: ImportedModel, quant: QuantTarget, extra: object = {}) {
  const plan = planModelDir(m, quant);
  const files: Record<string, Uint8Array> = {
    ...plan.files,
    'model.safetensors': safetensorsBytes(plan.tensors, plan.metadata),
  };
  for (const [name, bytes] of Object.entries(files)) await env.MODELS.put(`${id}/${name}`, bytes);
  const tokenizer = files['tokenizer.json'] ? 'tokenizer.json' : 'tokenizer.bin';
  const manifest = {
    id,
    format: 'hf',
    weights: ['model.safetensors'],
    tokenizer,
    tokenizer_config: 'tokenizer_config.json',
    created: 1_700_000_000,
    owned_by: 'tests',
    ...extra,
  };
  await env.MODELS.put(`${id}/model.json`, JSON.stringify(manifest));
}

const tok = byteLevelTokenizer();
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const QWEN = {
  ...llamaConfig({
    dim: 64,
    hiddenDim: 128,
    nLayers: 2,
    nHeads: 4,
    nKvHeads: 2,
    vocabSize: 266,
    seqLen: 128,
  }),
  ropeTheta: 1e6,
  normEps: 1e-6,
  qkvBias: true,
};

describe('a Qwen2-style q8 model directory in R2', () => {
  beforeAll(async () => {
    const m = syntheticHfModel(QWEN, 'qwen2', 21, {
      'tokenizer.json': enc(tok.tokenizerJson),
      'tokenizer_config.json': enc(tok.tokenizerConfig),
    });
    await putModelDir('tiny-qwen-q8', m, 'q8');
  });
  const messages = [{ role: 'user' as const, content: 'the cat' }];

  it('renders the chat template: the prompt is the template text, tokenized without an extra BOS', async () => {
    const res = await client.chat.completions.create({
      model: 'tiny-qwen-q8',
      messages,
      max_tokens: 8,
      temperature: 0,
    });
    const t = new HfTokenizer(tok.tokenizerJson, tok.tokenizerConfig);
    const text = new ChatTemplate(chatTemplateSource(tok.tokenizerConfig)!, t.specialTokens).render(
      messages,
    );
    expect(res.usage!.prompt_tokens).toBe(t.encode(text, { bos: false }).length);
    expect(res.choices[0].finish_reason).toMatch(/stop|length/);
  });

  it('top_k 1 at temperature 1 is greedy; the same seed repeats; logit_bias bans', async () => {
    const greedy = await client.chat.completions.create({
      model: 'tiny-qwen-q8',
      messages,
      max_tokens: 12,
      temperature: 0,
      logprobs: true,
    });
    const topK1 = await client.chat.completions.create({
      model: 'tiny-qwen-q8',
      messages,
      max_tokens: 12,
      temperature: 1,
      top_k: 1,
    } as never);
    expect(topK1.choices[0].message.content).toBe(greedy.choices[0].message.content);
    const sampled = {
      model: 'tiny-qwen-q8',
      messages,
      max_tokens: 12,
      temperature: 1.2,
      min_p: 0.05,
      presence_penalty: 0.5,
      frequency_penalty: 0.3,
      seed: 9,
    };
    const [a, b] = await Promise.all([
      client.chat.completions.create(sampled as never),
      client.chat.completions.create(sampled as never),
    ]);
    expect(a.choices[0].message.content).toBe(b.choices[0].message.content);
    const first = greedy.choices[0].logprobs!.content![0];
    const bytes = Uint8Array.from(first.bytes!);
    const id = new HfTokenizer(tok.tokenizerJson, tok.tokenizerConfig).encode(
      new TextDecoder().decode(bytes),
      { bos: false },
    )[0];
    const banned = await client.chat.completions.create({
      model: 'tiny-qwen-q8',
      messages,
      max_tokens: 1,
      temperature: 0,
      logit_bias: { [id]: -100 },
      logprobs: true,
    });
    expect(banned.choices[0].logprobs!.content![0]?.token).not.toBe(first.token);
  });

  it('chat logprobs: each token, its logprob and top_logprobs; streamed the same', async () => {
    const req = {
      model: 'tiny-qwen-q8',
      messages,
      max_tokens: 10,
      temperature: 0,
      logprobs: true,
      top_logprobs: 3,
    };
    const whole = await client.chat.completions.create(req);
    const content = whole.choices[0].logprobs!.content!;
    expect(content.length).toBeGreaterThan(0);
    for (const e of content) {
      expect(e.logprob).toBeLessThanOrEqual(0);
      expect(e.top_logprobs).toHaveLength(3);
      expect(e.top_logprobs[0].logprob).toBeGreaterThanOrEqual(e.top_logprobs[2].logprob);
      expect(e.top_logprobs[0].token).toBe(e.token); // greedy: the chosen token is the most likely
    }
    expect(content.map((e) => e.token).join('')).toBe(whole.choices[0].message.content);
    const stream = await client.chat.completions.create({ ...req, stream: true });
    const streamed: typeof content = [];
    for await (const chunk of stream) streamed.push(...(chunk.choices[0]?.logprobs?.content ?? []));
    expect(streamed).toEqual(content);
  });

  it('completions logprobs: tokens, token_logprobs, top_logprobs, text_offset', async () => {
    const res = await client.completions.create({
      model: 'tiny-qwen-q8',
      prompt: 'the cat',
      max_tokens: 6,
      temperature: 0,
      logprobs: 2,
      echo: true,
    });
    const lp = res.choices[0].logprobs!;
    expect(lp.tokens!.length).toBe(lp.token_logprobs!.length);
    // the echoed prompt is scored too (OpenAI's echo): its first token, after nothing (no BOS), has none
    expect(lp.token_logprobs![0]).toBeNull();
    expect(lp.top_logprobs![0]).toBeNull();
    expect(Object.keys(lp.top_logprobs![1]!).length).toBeLessThanOrEqual(2);
    expect(lp.text_offset![0]).toBe(0);
    expect(lp.tokens!.join('')).toBe(res.choices[0].text);
    expect(res.choices[0].text.startsWith('the cat')).toBe(true);
  });

  it('n choices: one usage (prompt once, completions summed), seeds seed+i, streamed by index like the body', async () => {
    const req = {
      model: 'tiny-qwen-q8',
      messages,
      max_tokens: 8,
      temperature: 1.5,
      seed: 40,
      n: 3,
      logprobs: true,
    };
    const whole = await client.chat.completions.create(req);
    expect(whole.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    const single = await Promise.all(
      [0, 1, 2].map((i) => client.chat.completions.create({ ...req, n: 1, seed: 40 + i })),
    );
    expect(whole.choices.map((c) => c.message.content)).toEqual(
      single.map((r) => r.choices[0].message.content),
    );
    expect(whole.usage!.prompt_tokens).toBe(single[0].usage!.prompt_tokens);
    expect(whole.usage!.completion_tokens).toBe(
      single.reduce((n, r) => n + r.usage!.completion_tokens, 0),
    );
    const stream = await client.chat.completions.create({
      ...req,
      stream: true,
      stream_options: { include_usage: true },
    });
    const texts = ['', '', ''];
    const finishes: (string | null)[] = [null, null, null];
    let usage = null;
    for await (const chunk of stream) {
      for (const c of chunk.choices) {
        texts[c.index] += c.delta.content ?? '';
        if (c.finish_reason) finishes[c.index] = c.finish_reason;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(texts).toEqual(whole.choices.map((c) => c.message.content));
    expect(finishes).toEqual(whole.choices.map((c) => c.finish_reason));
    expect(usage).toMatchObject({ completion_tokens: whole.usage!.completion_tokens });
    const completions = await client.completions.create({
      model: 'tiny-qwen-q8',
      prompt: 'the cat',
      max_tokens: 5,
      temperature: 1,
      seed: 3,
      n: 2,
    });
    expect(completions.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(
      (await post('/chat/completions', { model: 'tiny-qwen-q8', messages, n: 9 })).status,
    ).toBe(400);
  });

  it('validates the ranges with OpenAI-style 400s', async () => {
    for (const [field, value] of [
      ['presence_penalty', 2.5],
      ['frequency_penalty', -3],
      ['top_logprobs', 21],
      ['min_p', 1.5],
      ['top_k', -1],
      ['logit_bias', { abc: 1 }],
      ['logit_bias', { 5: 101 }],
    ] as const) {
      const res = await post('/chat/completions', {
        model: 'tiny-qwen-q8',
        messages,
        [field]: value,
        ...(field === 'top_logprobs' ? { logprobs: true } : {}),
      });
      expect(res.status, field).toBe(400);
      expect(((await res.json()) as { error: { param: string } }).error.param).toContain(field);
    }
    const orphan = await post('/chat/completions', {
      model: 'tiny-qwen-q8',
      messages,
      top_logprobs: 2,
    });
    expect(orphan.status).toBe(400);
    const outside = await post('/chat/completions', {
      model: 'tiny-qwen-q8',
      messages,
      logit_bias: { 9999: 5 },
    });
    expect(((await outside.json()) as { error: { param: string } }).error.param).toBe('logit_bias');
    const completionsLogprobs = await post('/completions', {
      model: 'tiny-qwen-q8',
      prompt: 'x',
      logprobs: 21,
    });
    expect(completionsLogprobs.status).toBe(400);
  });
});

const reason = skipReason(await sharedModelsPresent());
describe.skipIf(reason !== null)(
  'stories260K as an HF-layout directory (tokenizer.bin) in R2',
  () => {
    beforeAll(async () => {
      await seedStories260k();
      const [checkpoint, tokenizer] = await Promise.all(
        ['checkpoint', 'tokenizer'].map(
          async (f) =>
            new Uint8Array(
              await (await env.FIXTURES.fetch(`http://fixtures/stories260k/${f}`)).arrayBuffer(),
            ),
        ),
      );
      await putModelDir('stories260k-dir', importLlama2c(checkpoint, tokenizer), 'f32', {
        max_sessions: 1,
      });
    });

    it('answers exactly like the llama2.c checkpoint', async () => {
      const req = {
        messages: [{ role: 'user' as const, content: 'Once upon a time' }],
        max_tokens: 40,
        temperature: 0,
      };
      const [dir, bin] = await Promise.all([
        client.chat.completions.create({ ...req, model: 'stories260k-dir' }),
        client.chat.completions.create({ ...req, model: 'stories260k' }),
      ]);
      expect(dir.choices[0].message.content).toBe(bin.choices[0].message.content);
      expect(dir.usage!.prompt_tokens).toBe(bin.usage!.prompt_tokens);
    });
  },
);
