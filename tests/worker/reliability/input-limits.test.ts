// Client input that used to reach a 500 gets a documented 4xx (docs/errors.md "Limits"): too many
// messages (the validator overflowed its stack), too deep a body, too large a body (413), a model
// id too long for R2 or not even well-formed; empty content is refused like an empty string, and
// nothing of it is billed.
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_ARRAY_ITEMS, MAX_BODY_BYTES, MAX_DEPTH } from '../../../protocol/body';
import { MAX_MESSAGES, MAX_MODEL_ID } from '../../../protocol/requests';
import { rowsOf } from '../billing/requests';
import { provisionKey, type TestKey } from '../billing/setup';
import { seedStories260k, sharedModelsPresent, skipReason } from '../seed';
import { expectApiError, send } from './error-shape';

let k: TestKey;
beforeAll(async () => {
  k = await provisionKey();
});
const chat = (body: string, headers: Record<string, string> = {}) =>
  send('/v1/chat/completions', {
    body,
    headers: { authorization: `Bearer ${k.key}`, 'content-type': 'application/json', ...headers },
  });
const user = [{ role: 'user', content: 'Once upon a time' }];

describe('sizes and shapes', () => {
  it(`~70k empty messages (~210 KB) is a 400 naming messages (limit ${MAX_MESSAGES})`, async () => {
    const body = JSON.stringify({ model: 'stories260k', messages: Array(70_000).fill({}) });
    expect(body.length).toBeGreaterThan(200_000);
    const e = await expectApiError(await chat(body), 400);
    expect(e).toMatchObject({ type: 'invalid_request_error', param: 'messages' });
    expect(e.message).toContain(String(MAX_ARRAY_ITEMS));
  });

  it(`${MAX_MESSAGES + 1} real messages is a 400 too`, async () => {
    const messages = Array(MAX_MESSAGES + 1).fill(user[0]);
    const e = await expectApiError(await chat(JSON.stringify({ model: 'x', messages })), 400);
    expect(e.param).toBe('messages');
  });

  it(`nesting deeper than ${MAX_DEPTH} levels is a 400`, async () => {
    const deep = '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000);
    const body = `{"model":"stories260k","messages":[{"role":"user","content":"x"}],"extra":${deep}}`;
    const e = await expectApiError(await chat(body), 400);
    expect(e.message).toContain(`${MAX_DEPTH} levels`);
  });

  it(`a body over ${MAX_BODY_BYTES} bytes is a 413 request_too_large`, async () => {
    const body = JSON.stringify({
      model: 'stories260k',
      messages: [{ role: 'user', content: 'x'.repeat(MAX_BODY_BYTES) }],
    });
    const e = await expectApiError(await chat(body), 413);
    expect(e).toMatchObject({ type: 'invalid_request_error', code: 'request_too_large' });
  });
});

describe('model ids', () => {
  it(`a model id of 1014+ bytes is a 400 (ids are at most ${MAX_MODEL_ID} characters)`, async () => {
    const e = await expectApiError(
      await chat(JSON.stringify({ model: 'm'.repeat(1014), messages: user })),
      400,
    );
    expect(e).toMatchObject({ param: 'model', code: 'invalid_value' });
  });

  it('an id within the limit but too long for an R2 key, or with a lone surrogate, is a 404', async () => {
    for (const model of ['€'.repeat(MAX_MODEL_ID), '\ud800abc']) {
      const e = await expectApiError(await chat(JSON.stringify({ model, messages: user })), 404);
      expect(e.code).toBe('model_not_found');
    }
  });
});

const reason = skipReason(await sharedModelsPresent());
describe.skipIf(reason !== null)('empty content', () => {
  beforeAll(seedStories260k);

  it('content [] or only empty text parts is a 400 naming the message, and is not billed', async () => {
    const cases = [
      { messages: [{ role: 'user', content: [] }], param: 'messages.0.content' },
      {
        messages: [{ role: 'user', content: [{ type: 'text', text: '' }] }],
        param: 'messages.0.content',
      },
      {
        messages: [
          { role: 'system', content: '' },
          { role: 'user', content: [{ type: 'text', text: '' }] },
        ],
        param: 'messages.1.content',
      },
      { messages: [{ role: 'user', content: '' }], param: 'messages.0.content' },
    ];
    for (const { messages, param } of cases) {
      const e = await expectApiError(
        await chat(JSON.stringify({ model: 'stories260k', messages, max_tokens: 4 })),
        400,
      );
      expect(e).toMatchObject({ type: 'invalid_request_error', param });
    }
    expect(await rowsOf(k.keyId)).toHaveLength(0);
  });
});
