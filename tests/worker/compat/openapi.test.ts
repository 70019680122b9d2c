// GET /openapi.json is the spec the server validates with: real responses of every documented
// operation (JSON, each SSE frame, errors) validate against it, and its request schemas accept and
// reject exactly the bodies the server does.
import { Validator, type OutputUnit } from '@cfworker/json-schema';
import { beforeAll, describe, expect, it } from 'vitest';
import { BASE_URL, MODEL, prepare, reason, workerFetch } from './setup';

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, unknown> };
};
const ROOT = BASE_URL.replace(/\/v1$/, '');

let doc: Doc;
let key: string;

/** Validates `value` against `#/components/schemas/...` of the document (refs rewritten to $defs for the validator). */
function check(ref: string, value: unknown): OutputUnit[] {
  const defs = JSON.parse(
    JSON.stringify(doc.components.schemas).replaceAll('"#/components/schemas/', '"#/$defs/'),
  );
  const validator = new Validator(
    { $ref: ref.replace('#/components/schemas/', '#/$defs/'), $defs: defs },
    '2020-12',
    false,
  );
  return validator.validate(value).errors;
}

/** The schema ref the document gives for this operation's response. */
function responseRef(
  method: string,
  path: string,
  status: number,
  media = 'application/json',
): string {
  const responses = doc.paths[path]?.[method]?.responses;
  expect(responses, `${method} ${path} is documented`).toBeDefined();
  const response = responses[String(status)] ?? responses.default;
  const content = response.content[media];
  return (media === 'text/event-stream' ? content['x-item-schema'] : content.schema).$ref;
}

async function call(method: string, path: string, body?: unknown, apiKey = key): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${apiKey}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return workerFetch(`${ROOT}${path}`, {
    method: method.toUpperCase(),
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Calls the Worker and validates the JSON answer against the document. */
async function expectConforms(
  method: string,
  docPath: string,
  path: string,
  status: number,
  body?: unknown,
  apiKey?: string,
) {
  const res = await call(method, path, body, apiKey);
  expect(res.status, `${method} ${path}`).toBe(status);
  const json: any = await res.json();
  expect(check(responseRef(method, docPath, status), json), JSON.stringify(json)).toEqual([]);
  return json;
}

describe.skipIf(reason !== null)('the OpenAPI document', () => {
  beforeAll(async () => {
    key = await prepare();
    const res = await workerFetch(`${ROOT}/openapi.json`);
    expect(res.status).toBe(200);
    doc = await res.json();
  });

  it('is OpenAPI 3.1 whose every $ref resolves', () => {
    expect(doc.openapi).toBe('3.1.0');
    const refs = [
      ...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g),
    ].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(10);
    for (const id of refs) expect(doc.components.schemas, id).toHaveProperty(id);
    // The validator does reject: a body missing its fields, a usage with a float token count.
    expect(
      check('#/components/schemas/ChatCompletion', { object: 'chat.completion' }).length,
    ).toBeGreaterThan(0);
    expect(check('#/components/schemas/Usage', { prompt_tokens: 1.5 }).length).toBeGreaterThan(0);
    // OpenAI's /v1, and DeepSeek's base URLs: the root and /beta.
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/beta/chat/completions',
      '/beta/completions',
      '/beta/models',
      '/beta/models/{model}',
      '/chat/completions',
      '/completions',
      '/models',
      '/models/{model}',
      '/user/balance',
      '/v1/chat/completions',
      '/v1/completions',
      '/v1/models',
      '/v1/models/{model}',
      '/v1/usage',
      '/v1/user/balance',
    ]);
  });

  it('JSON responses of every operation conform', async () => {
    const chat = {
      model: MODEL,
      messages: [{ role: 'user', content: 'Once upon a time' }],
      max_tokens: 8,
      temperature: 0,
    };
    await expectConforms('post', '/v1/chat/completions', '/v1/chat/completions', 200, chat);
    await expectConforms('post', '/v1/completions', '/v1/completions', 200, {
      model: MODEL,
      prompt: 'Lily',
      max_tokens: 8,
      echo: true,
    });
    // the echoed prompt's logprobs: the first entry null where nothing comes before it
    await expectConforms('post', '/v1/completions', '/v1/completions', 200, {
      model: MODEL,
      prompt: [403, 407],
      max_tokens: 2,
      echo: true,
      logprobs: 1,
    });
    await expectConforms('get', '/v1/models', '/v1/models', 200);
    await expectConforms('get', '/v1/models/{model}', `/v1/models/${MODEL}`, 200);
    const usage = await expectConforms('get', '/v1/usage', '/v1/usage', 200);
    expect(usage.data.length).toBeGreaterThan(0);
    await expectConforms('get', '/user/balance', '/user/balance', 200);
    await expectConforms('get', '/v1/user/balance', '/v1/user/balance', 200);
  });

  it('every SSE frame conforms to the item schema, usage chunk included', async () => {
    for (const [path, body] of [
      [
        '/v1/chat/completions',
        {
          model: MODEL,
          messages: [{ role: 'user', content: 'The dog' }],
          max_tokens: 8,
          stream: true,
          stream_options: { include_usage: true },
        },
      ],
      [
        '/v1/completions',
        {
          model: MODEL,
          prompt: 'The dog',
          max_tokens: 8,
          stream: true,
          stream_options: { include_usage: true },
        },
      ],
    ] as const) {
      const res = await call('post', path, body);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const frames = (await res.text())
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6));
      expect(frames.at(-1)).toBe('[DONE]');
      const ref = responseRef('post', path, 200, 'text/event-stream');
      for (const frame of frames.slice(0, -1))
        expect(check(ref, JSON.parse(frame)), frame).toEqual([]);
      expect(JSON.parse(frames.at(-2)!).usage.total_tokens).toBeGreaterThan(0);
    }
  });

  it('error responses conform: 400, 401, 402, 404', async () => {
    await expectConforms('post', '/v1/chat/completions', '/v1/chat/completions', 400, {
      model: MODEL,
      messages: [],
    });
    await expectConforms('post', '/v1/chat/completions', '/v1/chat/completions', 404, {
      model: 'nope',
      messages: [{ role: 'user', content: 'hi' }],
    });
    await expectConforms('get', '/v1/models', '/v1/models', 401, undefined, 'sk-wrong');
    const broke = await prepare('0');
    await expectConforms(
      'post',
      '/v1/completions',
      '/v1/completions',
      402,
      { model: MODEL, prompt: 'hi', max_tokens: 2 },
      broke,
    );
  });

  it('its request schemas accept and reject exactly what the server does', async () => {
    const base = { model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 };
    const bodies: Record<string, unknown>[] = [
      base,
      { ...base, frequency_penalty: 0.5, stream: null, stop: 'x', seed: 3, top_p: 1, n: 1 },
      { ...base, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] },
      { ...base, temperature: 3 },
      { ...base, top_p: 0 },
      { ...base, top_p: -0.1 },
      { ...base, n: 2 },
      { ...base, stop: [1] },
      { ...base, stop: Array(17).fill('x') },
      { ...base, max_tokens: 1.5 },
      { ...base, messages: [] },
      { ...base, messages: [{ role: 'wizard', content: 'hi' }] },
      { messages: base.messages },
    ];
    const ref =
      doc.paths['/v1/chat/completions'].post.requestBody.content['application/json'].schema.$ref;
    for (const body of bodies) {
      const res = await call('post', '/v1/chat/completions', body);
      const specValid = check(ref, body).length === 0;
      expect(res.status === 400, JSON.stringify(body)).toBe(!specValid);
      await res.body?.cancel();
    }
  });
});
