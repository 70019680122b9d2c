// An abandoned JSON (non-streaming) request on the edge: the client's disconnect reaches the engine
// (request.signal, with the request kept alive by the meter's waitUntil), decoding stops, and the
// ledger bills only the tokens produced, as a disconnected request — never the whole n × max_tokens.
import { beforeAll, describe, expect, it } from 'vitest';
import { costOf } from '../../../billing/cost';
import { prices } from '../../../billing/prices';
import { MODEL, rowsOf, settledRow } from '../billing/requests';
import { balanceNanos, call, provisionKey } from '../billing/setup';
import { seedStories260k, sharedModelsPresent, skipReason } from '../seed';

const reason = skipReason(await sharedModelsPresent());
const N = 8;
const MAX_TOKENS = 500;

describe.skipIf(reason !== null)('an abandoned JSON request', () => {
  beforeAll(seedStories260k);

  it(`n: ${N}, max_tokens: ${MAX_TOKENS}, aborted early: decoding stops, only produced tokens are billed`, async () => {
    const k = await provisionKey({ balance: '10' });
    const abort = new AbortController();
    const body = JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content: 'Once upon a time' }],
      temperature: 1,
      seed: 7,
      n: N,
      max_tokens: MAX_TOKENS,
      // no choice may end early at EOS (id 2 in llama2.c's vocabulary): the whole run takes N × MAX_TOKENS
      // tokens, so it is still going when the client leaves, however fast the machine
      logit_bias: { '2': -100 },
    });
    const pending = call('/v1/chat/completions', {
      method: 'POST',
      key: k.key,
      body,
      signal: abort.signal,
    }).catch((e: Error) => e);
    // Aborted once the generation runs (its ledger row exists), well before its end: the whole run
    // (N × MAX_TOKENS tokens of the 260K model) took ~0.4 s on 2026-12-07's machine, 6 s on an older one.
    for (let i = 0; i < 200 && (await rowsOf(k.keyId)).length === 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    abort.abort();
    expect(await pending).toBeInstanceOf(Error);

    const [pendingRow] = await rowsOf(k.keyId);
    const row = await settledRow(pendingRow.id, 20_000);
    expect(row.status).toBe('disconnected');
    expect(row.completion_tokens).toBeGreaterThan(0);
    expect(row.completion_tokens).toBeLessThan(N * MAX_TOKENS);
    const price = prices.priceAt(MODEL, 'edge', new Date());
    const expected = costOf(
      { promptTokens: row.prompt_tokens, cachedTokens: 0, completionTokens: row.completion_tokens },
      price,
    ).total;
    expect(row.cost_nanos).toBe(expected);
    expect(await balanceNanos(k.accountId)).toBe(10_000_000_000 - expected);
  });
});
