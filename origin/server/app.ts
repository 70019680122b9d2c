// The origin's HTTP API (Hono, Web Request/Response; main.ts serves it with @hono/node-server):
// the Worker's generation endpoints with the same request schemas, error shapes and usage fields,
// plus /health (the dispatcher's probe) and /metrics (Prometheus).
import { Hono } from 'hono';
import { invalidRequest, modelNotFound } from '../../protocol/errors';
import { chatCompletionRequest, completionRequest } from '../../protocol/requests';
import type { ModelList } from '../../protocol/responses';
import { readBody } from '../../protocol/body';
import { chatFrames, completionFrames } from '../../protocol/endpoint-frames';
import { errorResponse } from '../../protocol/error-response';
import type { Shapes } from '../../protocol/frames';
import { requestId } from '../../protocol/request-id';
import type { OriginMetrics } from '../metrics';
import type { OriginTokenizer } from '../model/byte-tokenizer';
import type { PrefixCache } from '../scheduler/prefix-cache';
import type { Scheduler } from '../scheduler/scheduler';
import { planGeneration, type SamplingFields } from './plan';
import { collect, stream } from './respond';
import { originChat, type OriginChat } from './structured';

export interface OriginContext {
  modelId: string;
  /** Hex SHA-256 of the checkpoint files: part of every prefix-cache key. */
  weightsDigest: string;
  vocabSize: number;
  backendName: string;
  maxSeqLen: number;
  maxSeqs: number;
  tokenizer: OriginTokenizer;
  scheduler: Scheduler;
  cache: PrefixCache;
  metrics: OriginMetrics;
  startedAt: number;
}

type Env = { Variables: { requestId: string } };

const ENDPOINTS = new Set([
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/models',
  '/health',
  '/metrics',
]);

const FINGERPRINT = 'fp_origin_reference';

/** OpenAI's default for the legacy endpoint. */
const COMPLETIONS_MAX_TOKENS = 16;

export function originApp(ctx: OriginContext): Hono<Env> {
  const app = new Hono<Env>();

  app.use(requestId());
  app.use(async function countRequests(c, next) {
    await next();
    const endpoint = ENDPOINTS.has(c.req.path) ? c.req.path : 'other';
    ctx.metrics.requests.inc({ endpoint, status: String(c.res.status) });
  });

  /** Submits the plan and answers as JSON or SSE; the request's signal cancels it if the client leaves. */
  async function generate(
    c: import('hono').Context<Env>,
    prompt: string,
    fields: SamplingFields,
    defaultMax: number | 'context',
    param: string,
    frames: (includeUsage: boolean) => Shapes,
    structured: Omit<OriginChat, 'prompt'> = {},
  ) {
    const plan = await planGeneration(
      ctx,
      prompt,
      fields,
      defaultMax,
      param,
      c.req.header('x-cache-salt') ?? '',
    );
    const abort = new AbortController();
    const signal = AbortSignal.any([abort.signal, c.req.raw.signal]);
    const request = structured.constraint
      ? { ...plan.request, constraint: structured.constraint }
      : plan.request;
    const seq = ctx.scheduler.submit(request, signal);
    const f = frames(plan.includeUsage);
    const tools = structured.toolSyntax;
    if (!fields.stream) return c.json(await collect(seq, f, tools));
    return stream(
      seq,
      f,
      plan.includeUsage,
      { 'x-request-id': c.get('requestId') },
      () => abort.abort(),
      tools,
    );
  }

  const head = (prefix: string, c: import('hono').Context<Env>) => ({
    id: `${prefix}-${c.get('requestId')}`,
    created: Math.floor(Date.now() / 1000),
    model: ctx.modelId,
    system_fingerprint: FINGERPRINT,
  });

  app.post('/v1/chat/completions', async (c) => {
    const req = await readBody(c, chatCompletionRequest);
    if (req.model !== ctx.modelId) throw modelNotFound(req.model);
    if (req.messages.every((m) => m.content === null || m.content === ''))
      throw invalidRequest('messages must contain some text.', 'messages');
    const fields = { ...req, max_tokens: req.max_tokens ?? req.max_completion_tokens };
    const { prompt, ...structured } = originChat(req, ctx.tokenizer, ctx.vocabSize);
    return generate(
      c,
      prompt,
      fields,
      'context',
      'messages',
      (u) => chatFrames(head('chatcmpl', c), u),
      structured,
    );
  });

  app.post('/v1/completions', async (c) => {
    const req = await readBody(c, completionRequest);
    if (req.model !== ctx.modelId) throw modelNotFound(req.model);
    const prompt = typeof req.prompt === 'string' ? req.prompt : req.prompt[0];
    const echo = req.echo ? prompt : '';
    return generate(c, prompt, req, COMPLETIONS_MAX_TOKENS, 'prompt', (u) =>
      completionFrames(head('cmpl', c), u, echo),
    );
  });

  app.get('/v1/models', (c) => {
    const list: ModelList = {
      object: 'list',
      data: [
        {
          id: ctx.modelId,
          object: 'model',
          created: Math.floor(ctx.startedAt / 1000),
          owned_by: 'origin',
          placement: 'origin',
          context_length: ctx.maxSeqLen,
        },
      ],
    };
    return c.json(list);
  });

  app.get('/health', (c) =>
    c.json({
      status: 'ok',
      model: ctx.modelId,
      backend: ctx.backendName,
      tokenizer: ctx.tokenizer.name,
      queue_depth: ctx.scheduler.queueDepth,
      max_queue: ctx.scheduler.opts.maxQueue,
      active_sequences: ctx.scheduler.activeCount,
      max_sequences: ctx.maxSeqs,
      context_length: ctx.maxSeqLen,
      prefix_cache: {
        blocks: ctx.cache.blocks,
        bytes: ctx.cache.bytes,
        max_bytes: ctx.cache.maxBytes,
        codec: ctx.cache.codecName,
      },
      uptime_s: Math.round((Date.now() - ctx.startedAt) / 1000),
    }),
  );

  app.get('/metrics', (c) =>
    c.body(ctx.metrics.registry.render(), 200, {
      'content-type': 'text/plain; version=0.0.4; charset=utf-8',
    }),
  );

  app.notFound((c) =>
    c.json(
      {
        error: {
          message: `Unknown path ${c.req.method} ${c.req.path}.`,
          type: 'invalid_request_error',
          param: null,
          code: 'not_found',
        },
      },
      404,
    ),
  );
  app.onError((err, c) => errorResponse(c, err));
  return app;
}
