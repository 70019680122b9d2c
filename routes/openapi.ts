// GET /openapi.json — the OpenAPI 3.1 document, generated from the very zod schemas that validate
// requests (protocol/requests.ts) plus the response schemas (protocol/responses.ts), so the spec
// cannot drift from what the server accepts. Endpoints are a table; adding one is a data change.
import { Hono } from 'hono';
import { z } from 'zod';
import { chatCompletionRequest, completionRequest } from '../protocol/requests';
import {
  balanceSchema,
  chatCompletionChunkSchema,
  chatCompletionSchema,
  completionSchema,
  errorBodySchema,
  modelCardSchema,
  modelListSchema,
  usageReportSchema,
} from '../protocol/responses';
import type { AppEnv } from './env';

interface Operation {
  method: 'get' | 'post';
  path: string;
  operationId: string;
  summary: string;
  request?: z.ZodType;
  response: z.ZodType;
  /** The schema of each `data:` frame when the request asks for `stream: true`. */
  streamItem?: z.ZodType;
  /** Path and query parameters, as OpenAPI parameter objects. */
  parameters?: object[];
  /** Error statuses this operation documents besides the catch-all. */
  errors: number[];
}

const GENERATION_ERRORS = [400, 401, 402, 404, 409, 413, 422, 429, 503];
const fallbackHeader = {
  name: 'x-fallback',
  in: 'header',
  required: false,
  schema: { type: 'string', enum: ['none', 'auto'] },
  description:
    "`none`: answer only from the model asked for; when it cannot answer, a 503 with `retry-after` instead of a fallback model's answer. `auto` (default): the registry's fallbacks.",
};
const idempotencyKey = {
  name: 'idempotency-key',
  in: 'header',
  required: false,
  schema: { type: 'string', maxLength: 255 },
  description:
    'Retries of a request with the same key are answered from the first and billed once.',
};
const dateQuery = (name: string, description: string) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema: { type: 'string', format: 'date' },
});

const operations: Operation[] = [
  {
    method: 'post',
    path: '/v1/chat/completions',
    operationId: 'createChatCompletion',
    summary: 'Chat completion, JSON or SSE',
    request: chatCompletionRequest,
    response: chatCompletionSchema,
    streamItem: chatCompletionChunkSchema,
    errors: GENERATION_ERRORS,
    parameters: [idempotencyKey, fallbackHeader],
  },
  {
    method: 'post',
    path: '/v1/completions',
    operationId: 'createCompletion',
    summary: 'Legacy text completion, JSON or SSE',
    request: completionRequest,
    response: completionSchema,
    streamItem: completionSchema,
    errors: GENERATION_ERRORS,
    parameters: [idempotencyKey, fallbackHeader],
  },
  {
    method: 'get',
    path: '/v1/models',
    operationId: 'listModels',
    summary: 'Models this server can run',
    response: modelListSchema,
    errors: [401],
  },
  {
    method: 'get',
    path: '/v1/models/{model}',
    operationId: 'retrieveModel',
    summary: 'One model',
    response: modelCardSchema,
    errors: [401, 404],
    parameters: [{ name: 'model', in: 'path', required: true, schema: { type: 'string' } }],
  },
  {
    method: 'get',
    path: '/v1/usage',
    operationId: 'retrieveUsage',
    summary: "This key's tokens and costs by day and model",
    response: usageReportSchema,
    errors: [400, 401],
    parameters: [
      dateQuery('start_date', 'First day (UTC); default 29 days before end_date.'),
      dateQuery('end_date', 'Last day (UTC); default today.'),
    ],
  },
  {
    method: 'get',
    path: '/user/balance',
    operationId: 'retrieveBalance',
    summary: "The account's balance (DeepSeek's shape and path)",
    response: balanceSchema,
    errors: [401],
  },
  {
    method: 'get',
    path: '/v1/user/balance',
    operationId: 'retrieveBalanceV1',
    summary: "The account's balance (DeepSeek's shape, under this API's /v1)",
    response: balanceSchema,
    errors: [401],
  },
];

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request: malformed JSON, a missing or out-of-range field (`param` names it), a prompt longer than the context, or more tokens than the key may use in a minute (`request_too_large`, `x-should-retry: false`).',
  401: 'Missing or invalid API key.',
  402: 'Insufficient balance.',
  404: 'Unknown model (`model_not_found`) or endpoint.',
  413: 'The request body is larger than 4 MiB (`request_too_large`).',
  409: 'A request with the same `idempotency-key` is still running; retry after `retry-after`.',
  422: 'This `idempotency-key` was already used with a different request body.',
  429: 'Rate limited; `retry-after` / `retry-after-ms` say when to try again, `x-ratelimit-*` what is left.',
  503: 'The model cannot answer now (its origins are down or full) and no fallback may: `retry-after` says when to try again.',
};

/** DeepSeek's base URLs: the /v1 operations (usage aside) answer at each too. */
const DEEPSEEK_BASES = [
  { base: '', suffix: 'Root', note: "DeepSeek's base URL, no /v1" },
  { base: '/beta', suffix: 'Beta', note: "DeepSeek's beta base URL: FIM `suffix`, chat `prefix`" },
] as const;

/** Served under /v1 only: usage is ours, and the balance's DeepSeek path is an operation of its own. */
const V1_ONLY = new Set(['/v1/usage', '/v1/user/balance']);

/** Each operation, then its copies at DeepSeek's base URLs (operation ids stay unique). */
const allOperations = (): Operation[] =>
  operations.flatMap((op) =>
    op.path.startsWith('/v1/') && !V1_ONLY.has(op.path)
      ? [
          op,
          ...DEEPSEEK_BASES.map((b) => ({
            ...op,
            path: b.base + op.path.slice('/v1'.length),
            operationId: op.operationId + b.suffix,
            summary: `${op.summary} (${b.note})`,
          })),
        ]
      : [op],
  );

/** The `#/components/schemas/...` reference of a schema registered with `.meta({ id })`. */
export function schemaRef(schema: z.ZodType): { $ref: string } {
  const id = z.globalRegistry.get(schema)?.id;
  if (!id) throw new Error('openapi: a schema used by an operation has no .meta({ id })');
  return { $ref: `#/components/schemas/${id}` };
}

function componentSchemas(): Record<string, unknown> {
  const { schemas } = z.toJSONSchema(z.globalRegistry, {
    io: 'input',
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  });
  if ('__shared' in schemas)
    throw new Error('openapi: a shared schema has no id; give it .meta({ id })');
  // Components are fragments of this document, not standalone JSON Schema resources.
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _s, $id: _i, ...rest }]) => [id, rest]),
  );
}

function pathItem(op: Operation) {
  const json = (schema: z.ZodType) => ({ 'application/json': { schema: schemaRef(schema) } });
  const ok = op.streamItem
    ? {
        ...json(op.response),
        'text/event-stream': {
          schema: {
            type: 'string',
            description: 'Server-sent events: `data: <item>` frames, then `data: [DONE]`.',
          },
          'x-item-schema': schemaRef(op.streamItem),
        },
      }
    : json(op.response);
  const errors = Object.fromEntries(
    op.errors.map((s) => [
      String(s),
      { description: ERROR_DESCRIPTIONS[s], content: json(errorBodySchema) },
    ]),
  );
  return {
    operationId: op.operationId,
    summary: op.summary,
    ...(op.parameters ? { parameters: op.parameters } : {}),
    ...(op.request ? { requestBody: { required: true, content: json(op.request) } } : {}),
    responses: {
      '200': {
        description: 'OK',
        headers: { 'x-request-id': { schema: { type: 'string' } } },
        content: ok,
      },
      ...errors,
      default: {
        description: 'Any other error, in the same shape.',
        content: json(errorBodySchema),
      },
    },
  };
}

export function buildOpenApiDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of allOperations()) (paths[op.path] ??= {})[op.method] = pathItem(op);
  return {
    openapi: '3.1.0',
    info: {
      title: 'edge-inference',
      version: '0.1.0',
      description:
        'OpenAI/DeepSeek-compatible inference API. Every response carries `x-request-id`; generation responses carry `x-served-by`.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: '`Authorization: Bearer <API key>`',
        },
      },
    },
  };
}

export function openapi() {
  const app = new Hono<AppEnv>();
  let document: ReturnType<typeof buildOpenApiDocument> | undefined;
  app.get('/', (c) => c.json((document ??= buildOpenApiDocument())));
  return app;
}
