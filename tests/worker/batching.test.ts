// Decode batching inside workerd, through the Worker: concurrent requests (JSON and SSE) with different
// prompts get exactly the text each gets alone, and a model whose sessions and queue are full answers
// 503 with retry-after in OpenAI's error shape (engine/decode-batcher.ts, routes/generation.ts).
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { call, provisionKey } from './billing/setup';
import { putModel, seedStories260k, sharedModelsPresent, skipReason } from './seed';

const reason = skipReason(await sharedModelsPresent());

const PROMPTS = ['The little dog', 'Once upon a time', 'Lily had a ball', 'The sun', 'Tom and Sam'];

const body = (model: string, content: string, stream: boolean, maxTokens = 30) =>
  JSON.stringify({
    model,
    messages: [{ role: 'user', content }],
    max_tokens: maxTokens,
    temperature: 0,
    stream,
  });

/** The answer's text, from a JSON body or by joining an SSE stream's content deltas. */
async function textOf(res: Response): Promise<string> {
  expect(res.status).toBe(200);
  if (!res.headers.get('content-type')?.includes('text/event-stream')) {
    const json = (await res.json()) as { choices: { message: { content: string } }[] };
    return json.choices[0].message.content;
  }
  let text = '';
  for (const line of (await res.text()).split('\n')) {
    if (!line.startsWith('data: {')) continue;
    const frame = JSON.parse(line.slice(6)) as { choices?: { delta?: { content?: string } }[] };
    text += frame.choices?.[0]?.delta?.content ?? '';
  }
  return text;
}

describe.skipIf(reason !== null)('decode batching in workerd', () => {
  it('concurrent requests get the text each gets alone', async () => {
    await seedStories260k();
    const { key } = await provisionKey();
    const send = (content: string, stream: boolean) =>
      call('/v1/chat/completions', {
        method: 'POST',
        body: body('stories260k', content, stream),
        key,
      });
    const alone: string[] = [];
    for (const p of PROMPTS) alone.push(await textOf(await send(p, false)));
    expect(new Set(alone).size).toBe(PROMPTS.length);
    const together = await Promise.all(
      PROMPTS.map(async (p, i) => textOf(await send(p, i % 2 === 1))),
    );
    expect(together).toEqual(alone);
  });

  it('answers 503 with retry-after when every session is busy and the queue is full', async () => {
    const files = await Promise.all(
      ['checkpoint', 'tokenizer'].map(async (f) =>
        (await env.FIXTURES.fetch(`http://fixtures/stories260k/${f}`)).arrayBuffer(),
      ),
    );
    await putModel('stories260k-one', files[0], files[1], 'one session, no queue', {
      max_sessions: 1,
      max_queue: 0,
    });
    const { key } = await provisionKey();
    const send = (stream: boolean) =>
      call('/v1/chat/completions', {
        method: 'POST',
        body: body('stories260k-one', 'The little dog', stream, 200),
        key,
      });
    const first = await send(true);
    expect(first.status).toBe(200);
    const reader = first.body!.getReader();
    await reader.read(); // the stream has begun: its request holds the one session
    const refused = await send(false);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const err = (await refused.json()) as {
      error: { type: string; code: string; message: string };
    };
    expect(err.error).toMatchObject({ type: 'service_unavailable', code: 'model_overloaded' });
    expect(err.error.message).toContain('stories260k-one');
    while (!(await reader.read()).done);
    const after = await send(false);
    expect(after.status).toBe(200);
    await after.body?.cancel();
  });
});
