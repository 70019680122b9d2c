// Our own SDK (sdk/) inside workerd against the real Worker: what the official clients cannot
// show — cost, cache hits, where a request ran, usage and balance — and its error classes.
import { beforeAll, describe, expect, it } from 'vitest';
import EdgeInference, {
  AuthenticationError,
  BadRequestError,
  InsufficientBalanceError,
  NotFoundError,
  type ChatCompletionChunk,
} from '../../../sdk/index';
import { BASE_URL, MODEL, prepare, reason, workerFetch } from './setup';

const message = (content: string) => [{ role: 'user' as const, content }];

describe.skipIf(reason !== null)('our SDK against the Worker', () => {
  let client: EdgeInference;
  beforeAll(async () => {
    client = new EdgeInference({
      baseURL: BASE_URL,
      apiKey: await prepare(),
      fetch: workerFetch,
      maxRetries: 0,
    });
  });

  it('chat: text, usage with cache hits and cost, where it ran', async () => {
    const { data, servedBy, requestId } = await client.chat.completions
      .create({
        model: MODEL,
        messages: message('Once upon a time'),
        max_tokens: 10,
        temperature: 0,
      })
      .withResponse();
    expect(data.choices[0].message.content!.length).toBeGreaterThan(3);
    expect(data.usage.completion_tokens).toBe(10);
    expect(data.usage.prompt_cache_hit_tokens + data.usage.prompt_cache_miss_tokens).toBe(
      data.usage.prompt_tokens,
    );
    expect(servedBy).toBe(`edge:${MODEL}`);
    expect(requestId).toMatch(/\S+/);
    const cost = data.usage.cost!;
    expect(cost.total).toBe(cost.input_cache_hit + cost.input_cache_miss + cost.output);
    expect(cost.total).toBeGreaterThan(0);
  });

  it('streams chat chunks, ending with usage and cost, equal to the JSON answer', async () => {
    const request = { model: MODEL, messages: message('The cat'), max_tokens: 16, temperature: 0 };
    const whole = await client.chat.completions.create(request);
    const stream = await client.chat.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(stream.servedBy).toBe(`edge:${MODEL}`);
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(
      whole.choices[0].message.content,
    );
    const usage = chunks.at(-1)!.usage!;
    expect(usage.completion_tokens).toBe(whole.usage.completion_tokens);
    expect(usage.cost?.total).toBe(whole.usage.cost?.total);
  });

  it('streams legacy completions and stops on abort', async () => {
    const stream = await client.completions.create({
      model: MODEL,
      prompt: 'Lily',
      max_tokens: 200,
      temperature: 0,
      stream: true,
    });
    let n = 0;
    for await (const _ of stream) if (++n === 2) stream.abort();
    expect(n).toBe(2);
  });

  it('lists models; reports usage by day and model, and the balance', async () => {
    expect((await client.models.list()).data.map((m) => m.id)).toContain(MODEL);
    expect((await client.models.retrieve(MODEL)).id).toBe(MODEL);
    const report = await client.usage.retrieve();
    const row = report.data.find((r) => r.model === MODEL)!;
    expect(row.requests).toBeGreaterThanOrEqual(3);
    expect(row.prompt_cache_hit_tokens + row.prompt_cache_miss_tokens).toBe(row.prompt_tokens);
    expect(row.cost.total).toBeGreaterThan(0);
    const balance = await client.balance.retrieve();
    expect(balance.is_available).toBe(true);
    expect(Number(balance.balance_infos[0].total_balance)).toBeLessThan(10);
  });

  it('maps errors onto its classes with the request id', async () => {
    const notFound = await client.chat.completions
      .create({ model: 'no-such-model', messages: message('hi') })
      .catch((e) => e);
    expect(notFound).toBeInstanceOf(NotFoundError);
    expect(notFound).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
    expect(notFound.requestId).toMatch(/\S+/);
    await expect(
      client.chat.completions.create({ model: MODEL, messages: message('hi'), temperature: 9 }),
    ).rejects.toBeInstanceOf(BadRequestError);

    const stranger = new EdgeInference({
      baseURL: BASE_URL,
      apiKey: 'sk-not-a-key',
      fetch: workerFetch,
      maxRetries: 0,
    });
    await expect(stranger.models.list()).rejects.toBeInstanceOf(AuthenticationError);

    const broke = new EdgeInference({
      baseURL: BASE_URL,
      apiKey: await prepare('0'),
      fetch: workerFetch,
      maxRetries: 0,
    });
    const err = await broke.chat.completions
      .create({ model: MODEL, messages: message('hi'), max_tokens: 4 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(InsufficientBalanceError);
    expect(err.status).toBe(402);
    expect((await broke.balance.retrieve()).is_available).toBe(false);
  });
});
