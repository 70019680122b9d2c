// The origin's HTTP API (Hono, Web Request/Response; main.ts serves it with @hono/node-server):
// the Worker's generation endpoints with the same request schemas, error shapes and usage fields,
// plus /health (the dispatcher's probe) and /metrics (Prometheus).
import { Hono } from 'hono';
import { decodeText } from '../../engine/tokenizers/decode-text';
import { findFimTokens, renderFim } from '../../engine/tokenizers/fim';
import { invalidRequest, modelNotFound } from '../../protocol/errors';
import {
  chatCompletionRequest,
  completionPrompt,
  completionRequest,
} from '../../protocol/requests';
import type { ModelList } from '../../protocol/responses';
import { readBody } from '../../protocol/body';
import { echoLogprobs } from '../../protocol/logprobs';
import { chatFrames, completionFrames } from '../../protocol/endpoint-frames';
import { errorResponse } from '../../protocol/error-response';
import { systemFingerprint } from '../../protocol/fingerprint';
import type { Shapes } from '../../protocol/frames';
import { requestId } from '../../protocol/request-id';
import type { OriginMetrics } from '../metrics';
import type { OriginTokenizer } from '../model/byte-tokenizer';
import type { PrefixCache } from '../scheduler/prefix-cache';
import type { Scheduler } from '../scheduler/scheduler';
import { submitChoices } from './choices';
import type { HandoffClient } from './handoff-pull';
import { internalRoutes, type InternalContext } from './internal';
import { planGeneration, type SamplingFields } from './plan';
import type { Sequence } from '../scheduler/sequence';
import { relayHeadOf, type RelayEnds, type RelayHead } from './relay-ends';
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
  /** Prefill/decode separation (--role): this origin's role, */
  role?: 'prefill' | 'decode' | 'both';
  /** a decode origin's pull from prefill origins, */
  handoff?: HandoffClient;
  /** and POST /internal/prefill where this origin prefills for others. */
  internal?: InternalContext;
  /** Least ms between an SSE response's writes after its first output (--stream-interval-ms). */
  streamIntervalMs?: number;
  /** The held ends of client-ready streams (relay-ends.ts). */
  relayEnds: RelayEnds;
  /** The backend returns every row of a prefill chunk's logits: completions' echo with logprobs. */
  scoresPrompts?: boolean;
}

type Env = { Variables: { requestId: string } };

const ENDPOINTS = new Set([
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/models',
  '/health',
  '/metrics',
]);

/** OpenAI's default for the legacy endpoint. */
const COMPLETIONS_MAX_TOKENS = 16;
/** DeepSeek's chat default, capped at the room the prompt leaves (a 2048 context has less than this). */
const CHAT_MAX_TOKENS = 4096;

export function originApp(ctx: OriginContext): Hono<Env> {
  const app = new Hono<Env>();
  const fingerprint = systemFingerprint('origin', ctx.backendName, ctx.weightsDigest);
  /** The tokenizer as an echo's logprobs read it (BOS and EOS are not text). */
  const tokens = ctx.tokenizer;
  const pieceDecoder = {
    bosId: tokens.bosId,
    stopIds: tokens.eosId === null ? [] : [tokens.eosId],
    decodePiece: (_: number, id: number) => tokens.decode(id),
  };

  app.use(requestId());
  app.use(async function countRequests(c, next) {
    await next();
    const endpoint = ENDPOINTS.has(c.req.path) ? c.req.path : 'other';
    ctx.metrics.requests.inc({ endpoint, status: String(c.res.status) });
  });

  /** Submits the plan and answers as JSON or SSE; the request's signal cancels it if the client leaves. */
  async function generate(
    c: import('hono').Context<Env>,
    prompt: string | readonly number[],
    fields: SamplingFields & { n?: number | null },
    defaultMax: number | 'context',
    param: string,
    frames: (includeUsage: boolean, relayed: RelayHead | null, first: Sequence) => Shapes,
    bos = true,
    structured: Omit<OriginChat, 'prompt' | 'bos'> = { reasoning: false },
    scorePrompt?: number,
  ) {
    const plan = await planGeneration(
      ctx,
      prompt,
      fields,
      defaultMax,
      param,
      c.req.header('x-cache-salt') ?? '',
      bos,
    );
    if (scorePrompt !== undefined) plan.request.scorePrompt = scorePrompt;
    const abort = new AbortController();
    const signal = AbortSignal.any([abort.signal, c.req.raw.signal]);
    const extra: Record<string, string> = {};
    // a scored prompt is computed here, whole: a hand-off brings no logits for its positions
    const handoff = scorePrompt === undefined ? ctx.handoff : undefined;
    if (handoff && plan.request.promptIds.length >= handoff.minTokens) {
      // A decode origin: the prompt's rows come from a prefill origin (or, when none answers, from here).
      const got = await handoff.pull(plan.request, c.req.header('x-prefill-origin'), signal);
      if (got) plan.request.prefilled = got.prompt;
      extra['x-prefilled-by'] = got ? got.from : 'self';
    }
    // each choice's sequence makes its own constraint from the factory (sequence.ts)
    const request = structured.constraint
      ? { ...plan.request, constraint: structured.constraint }
      : plan.request;
    // each choice's sequence holds a handed-over prompt's memory until its slot has the rows
    const choices = await submitChoices(ctx.scheduler, request, fields.n ?? 1, signal).finally(() =>
      plan.request.prefilled?.lease?.release(),
    );
    // A client-ready stream for the Worker's relay: its head and usage chunk, its end held.
    const relayed = fields.stream ? relayHeadOf(c.req.header('x-relay-head')) : null;
    const f = frames(relayed ? relayed.include_usage : plan.includeUsage, relayed, choices[0].seq);
    const tools = structured.toolSyntax;
    if (!fields.stream) {
      for (const [k, v] of Object.entries(extra)) c.header(k, v);
      return c.json(
        await collect(choices, f, tools, structured.reasoning).catch((err: unknown) => {
          abort.abort(); // the other choices stop with the one that failed
          throw err;
        }),
      );
    }
    if (relayed) extra['x-relay-frames'] = 'client-ready';
    return stream(
      choices,
      f,
      plan.includeUsage,
      { 'x-request-id': c.get('requestId'), ...extra },
      () => abort.abort(),
      {
        tools,
        reasoning: structured.reasoning,
        intervalMs: ctx.streamIntervalMs,
        ...(relayed ? { held: heldEnd(relayed.key) } : {}),
      },
    );
  }

  /** A client-ready stream's end, held for the Worker and counted. */
  const heldEnd = (key: string) => {
    const settle = ctx.relayEnds.open(key);
    return (frames: string[]) => {
      ctx.metrics.clientReadyStreams.inc({});
      settle(frames);
    };
  };

  /** The chunks' head: ours, or the Worker's in a client-ready stream. */
  const head = (prefix: string, c: import('hono').Context<Env>, relayed: RelayHead | null) => ({
    id: relayed?.id ?? `${prefix}-${c.get('requestId')}`,
    created: relayed?.created ?? Math.floor(Date.now() / 1000),
    model: relayed?.model ?? ctx.modelId,
    system_fingerprint: relayed?.system_fingerprint ?? fingerprint,
  });

  app.post('/v1/chat/completions', async (c) => {
    const req = await readBody(c, chatCompletionRequest);
    if (req.model !== ctx.modelId) throw modelNotFound(req.model);
    if (req.messages.every((m) => m.content === null || m.content === ''))
      throw invalidRequest('messages must contain some text.', 'messages');
    const fields = { ...req, max_tokens: req.max_tokens ?? req.max_completion_tokens };
    const { prompt, bos, ...structured } = originChat(req, ctx.tokenizer, ctx.vocabSize);
    return generate(
      c,
      prompt,
      fields,
      CHAT_MAX_TOKENS,
      'messages',
      (u, relayed) => chatFrames(head('chatcmpl', c, relayed), u),
      bos,
      structured,
    );
  });

  app.post('/v1/completions', async (c) => {
    const req = await readBody(c, completionRequest);
    if (req.model !== ctx.modelId) throw modelNotFound(req.model);
    const prompt = completionPrompt(req.prompt);
    const echo = !req.echo
      ? ''
      : typeof prompt === 'string'
        ? prompt
        : decodeText(prompt, (_, id) => ctx.tokenizer.decode(id));
    // OpenAI's echo with logprobs scores the prompt: where the backend returns a prefill's every row
    const scoring = !!req.echo && req.logprobs != null;
    if (scoring && !ctx.scoresPrompts)
      throw invalidRequest(
        `Model '${ctx.modelId}' cannot score its prompt on the ${ctx.backendName} backend, so 'echo' with 'logprobs' is not supported; ask for one of them.`,
        'echo',
      );
    if (typeof req.suffix === 'string' && typeof prompt !== 'string')
      throw invalidRequest(
        "Invalid value for 'prompt': a FIM completion (with a suffix) takes its prompt as text, not token ids.",
        'prompt',
      );
    // FIM (DeepSeek's `suffix`) in the model's own tokens, as the Worker renders it for edge models.
    const fim = typeof req.suffix === 'string' ? findFimTokens(ctx.tokenizer) : null;
    if (typeof req.suffix === 'string' && !fim)
      throw invalidRequest(
        `Model '${ctx.modelId}' cannot fill in the middle: its tokenizer (${ctx.tokenizer.name}) has no FIM tokens.`,
        'suffix',
        'fim_not_supported',
      );
    const text = fim ? renderFim(fim, prompt as string, req.suffix!) : prompt;
    return generate(
      c,
      text,
      req,
      COMPLETIONS_MAX_TOKENS,
      'prompt',
      (u, relayed, first) =>
        completionFrames(
          head('cmpl', c, relayed),
          u,
          echo,
          scoring ? echoLogprobs(pieceDecoder, first.req.promptIds, first.promptScores) : null,
        ),
      true,
      { reasoning: false },
      scoring ? req.logprobs! : undefined,
    );
  });

  // A client-ready stream's end (relay-ends.ts), once its body is over; 404 for an unknown key.
  app.get('/v1/relay-ends/:key', async (c) => {
    const frames = await ctx.relayEnds.take(c.req.param('key'), c.req.raw.signal);
    if (!frames) return c.json({ error: { message: 'No such stream.', type: 'not_found' } }, 404);
    return c.json({ frames });
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
          tokenizer: ctx.tokenizer.name,
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
      speculative_decoding: ctx.scheduler.specMethod,
      role: ctx.role ?? 'both',
      ...(ctx.handoff ? { handoff: ctx.handoff.counts } : {}),
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

  if (ctx.internal) internalRoutes(app, ctx.internal);

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
