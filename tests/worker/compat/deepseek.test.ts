// A DeepSeek drop-in, through real clients unchanged but for base URL, key and fetch, with
// DeepSeek's base URLs: the root (no /v1) and /beta. Its model names (aliases in the registry),
// FIM with `suffix`, chat prefix completion, and validation errors that name the field and limit.
import { ChatOpenAI } from '@langchain/openai';
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { ChatTemplate } from '../../../engine/tokenizers/chat-template';
import { renderFim } from '../../../engine/tokenizers/fim';
import { HfTokenizer } from '../../../engine/tokenizers/hf-tokenizer';
import { call } from '../billing/setup';
import { FIM_MODEL, FIM_TOKENS, fimTokenizer, seedFimModel } from './deepseek-models';
import { MODEL, prepare, reason, workerFetch } from './setup';

const ROOT = 'http://edge.test';
const tok = fimTokenizer();
const tokenizer = new HfTokenizer(tok.json, tok.config);
const template = new ChatTemplate(tok.config.chat_template);

describe.skipIf(reason !== null)('DeepSeek base URLs, names, FIM and prefix', () => {
  let apiKey: string;
  let root: OpenAI;
  let beta: OpenAI;
  beforeAll(async () => {
    apiKey = await prepare();
    await seedFimModel();
    const client = (baseURL: string) =>
      new OpenAI({ baseURL, apiKey, fetch: workerFetch, maxRetries: 0 });
    root = client(ROOT);
    beta = client(`${ROOT}/beta`);
  });

  it('the root base URL: chat (JSON and streamed), models, balance; the same auth', async () => {
    const chat = await root.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 6,
      temperature: 0,
    });
    expect(chat.choices[0].message.content!.length).toBeGreaterThan(0);
    const stream = await root.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 6,
      temperature: 0,
      stream: true,
    });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    expect(streamed).toBe(chat.choices[0].message.content);
    expect((await root.models.retrieve(MODEL)).id).toBe(MODEL);
    const balance = await call('/user/balance', { key: apiKey });
    expect(balance.status).toBe(200);
    for (const path of ['/chat/completions', '/beta/chat/completions', '/models'])
      expect((await call(path, { method: path === '/models' ? 'GET' : 'POST' })).status).toBe(401);
  });

  it('deepseek-chat is listed as DeepSeek lists it and answers under that name', async () => {
    const list = (await (await call('/models', { key: apiKey })).json()) as {
      object: string;
      data: Record<string, unknown>[];
    };
    expect(list.object).toBe('list');
    expect(list.data.find((m) => m.id === 'deepseek-chat')).toMatchObject({
      id: 'deepseek-chat',
      object: 'model',
      owned_by: 'deepseek',
      alias_of: FIM_MODEL,
      placement: 'edge',
    });
    const res = await root.chat.completions
      .create({
        model: 'deepseek-chat',
        messages: [{ role: 'user', content: 'the cat' }],
        max_tokens: 4,
        temperature: 0,
      })
      .withResponse();
    // DeepSeek answers with the name it was called by; the header names the model that ran.
    expect(res.data.model).toBe('deepseek-chat');
    expect(res.response.headers.get('x-served-model')).toBe(FIM_MODEL);
    expect(res.response.headers.get('x-served-by')).toBe(`edge:${FIM_MODEL}`);
  });

  it('FIM on /beta/completions: prompt and suffix in the model’s FIM tokens; 4K max; refused without FIM tokens', async () => {
    const prompt = 'def fib(a):';
    const suffix = '    return fib(a-1) + fib(a-2)';
    const fim = await beta.completions.create({
      model: 'deepseek-chat',
      prompt,
      suffix,
      max_tokens: 5,
      temperature: 0,
    });
    const rendered = renderFim(
      { prefix: FIM_TOKENS[0], suffix: FIM_TOKENS[1], middle: FIM_TOKENS[2] },
      prompt,
      suffix,
    );
    expect(fim.usage!.prompt_tokens).toBe(tokenizer.encode(rendered).length);
    expect(fim.model).toBe('deepseek-chat');
    // DeepSeek's FIM takes up to 20 alternatives per token (OpenAI's legacy completions, 5)
    const alternatives = await beta.completions.create({
      model: 'deepseek-chat',
      prompt,
      suffix,
      max_tokens: 3,
      logprobs: 20,
      // seeded: unseeded, about 1 sample in 40 drew EOS first and had no entries
      seed: 7,
    });
    const top = alternatives.choices[0].logprobs!.top_logprobs!;
    expect(top).toHaveLength(3);
    for (const t of top) expect(Object.keys(t!).length).toBeGreaterThan(5);
    const tooMany = await beta.completions
      .create({ model: 'deepseek-chat', prompt, suffix, max_tokens: 3, logprobs: 21 })
      .catch((e) => e);
    expect(tooMany).toMatchObject({ status: 400, param: 'logprobs' });
    const tooLong = await beta.completions
      .create({ model: 'deepseek-chat', prompt, suffix, max_tokens: 5000 })
      .catch((e) => e);
    expect(tooLong).toMatchObject({ status: 400, param: 'max_tokens' });
    const noFim = await beta.completions
      .create({ model: MODEL, prompt, suffix, max_tokens: 4 })
      .catch((e) => e);
    expect(noFim).toBeInstanceOf(OpenAI.BadRequestError);
    expect(noFim).toMatchObject({ param: 'suffix', code: 'fim_not_supported' });
    expect(noFim.message).toMatch(/no FIM tokens/);
  });

  it('chat prefix completion on /beta: the assistant text is continued, the answer is only the continuation', async () => {
    const messages = [
      { role: 'user', content: 'Write quick sort' },
      { role: 'assistant', content: '```python\n', prefix: true },
    ];
    const res = await beta.chat.completions.create({
      model: 'deepseek-chat',
      messages: messages as never,
      max_tokens: 4,
      temperature: 0,
    });
    const expected = template.render([messages[0]]) + '```python\n';
    expect(res.usage!.prompt_tokens).toBe(tokenizer.encode(expected, { bos: false }).length);
    expect(res.choices[0].message.content!.startsWith('```python')).toBe(false);
    const misplaced = await root.chat.completions
      .create({
        model: 'deepseek-chat',
        messages: [{ ...messages[1] }, messages[0]] as never,
        max_tokens: 2,
      })
      .catch((e) => e);
    expect(misplaced).toMatchObject({ status: 400, param: 'messages.0.prefix' });
  });

  it('validation errors name the field and the limit', async () => {
    const image = await root.chat.completions
      .create({
        model: MODEL,
        messages: [
          {
            role: 'user',
            content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }],
          },
        ],
      })
      .catch((e) => e);
    expect(image).toMatchObject({ status: 400, param: 'messages.0.content.0.type' });
    expect(image.message).toMatch(/only 'text' content parts.*got 'image_url'/);
    const stops = await root.chat.completions
      .create({
        model: MODEL,
        messages: [{ role: 'user', content: 'hi' }],
        stop: Array.from({ length: 17 }, (_, i) => `s${i}`),
      })
      .catch((e) => e);
    expect(stops).toMatchObject({ status: 400, param: 'stop' });
    expect(stops.message).toMatch(/at most 16 items, got 17/);
  });

  it("LangChain's ChatOpenAI with the root base URL", async () => {
    const model = new ChatOpenAI({
      model: 'deepseek-chat',
      apiKey,
      temperature: 0,
      maxTokens: 4,
      maxRetries: 0,
      configuration: { baseURL: ROOT, fetch: workerFetch },
    });
    const answer = await model.invoke('the cat');
    expect(typeof answer.content).toBe('string');
    expect(answer.response_metadata).toMatchObject({ model_name: 'deepseek-chat' });
    expect(answer.usage_metadata?.output_tokens).toBeGreaterThan(0);
  });

  it('openapi.json documents the root and /beta paths', async () => {
    const doc = (await (await call('/openapi.json')).json()) as { paths: Record<string, object> };
    for (const path of ['/chat/completions', '/completions', '/models', '/beta/completions'])
      expect(Object.keys(doc.paths)).toContain(path);
  });
});
