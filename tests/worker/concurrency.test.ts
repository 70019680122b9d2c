// More concurrent generations than the engine has sessions: the extra requests wait their turn
// (on their own timers, as workerd requires) and all of them finish with the right text.
import { describe, expect, it } from 'vitest';
import { call, provisionKey } from './billing/setup';
import { seedStories260k, sharedModelsPresent, skipReason } from './seed';

const reason = skipReason(await sharedModelsPresent());

describe.skipIf(reason !== null)('concurrency beyond the session pool', () => {
  it('serves 10 simultaneous greedy requests with identical text', async () => {
    await seedStories260k();
    const { key } = await provisionKey();
    const body = JSON.stringify({
      model: 'stories260k',
      messages: [{ role: 'user', content: 'The little dog' }],
      max_tokens: 24,
      temperature: 0,
    });
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => call('/v1/chat/completions', { method: 'POST', body, key })),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses).toEqual(Array(10).fill(200));
    const texts = await Promise.all(
      responses.map(
        async (r) =>
          ((await r.json()) as { choices: { message: { content: string } }[] }).choices[0].message
            .content,
      ),
    );
    expect(new Set(texts).size).toBe(1);
    expect(texts[0].length).toBeGreaterThan(20);
  });
});
