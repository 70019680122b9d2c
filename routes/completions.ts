// POST /v1/completions — legacy text completion, JSON or SSE.
import { Hono } from 'hono';
import { completionChunk, completionUsageChunk } from '../protocol/frames';
import { completionRequest } from '../protocol/requests';
import type { Completion, FinishReason } from '../protocol/responses';
import type { Usage } from '../protocol/usage';
import { costHeaders } from '../billing/wire';
import { readBody } from './body';
import { FINGERPRINT } from './chat-completions';
import type { AppEnv } from './env';
import { admit, replayStream, runToEnd, streamResponse, type Frames } from './generation';
import type { ModelResolver } from './models';
import { routeGeneration } from './origin';
import { completionLogprobs } from './logprobs';
import { attachPromptCache, makePlan } from './plan';
import type { Dispatcher } from '../dispatch/dispatcher';

/** OpenAI's default for the legacy endpoint. */
const DEFAULT_MAX_TOKENS = 16;

export function completions(resolve: ModelResolver, dispatcher: Dispatcher) {
  const app = new Hono<AppEnv>();
  app.post('/', async (c) => {
    const req = await readBody(c, completionRequest);
    const prompt = typeof req.prompt === 'string' ? req.prompt : req.prompt[0];
    // An origin model is answered by its origin (dispatch/); an edge model, or an origin model's edge fallback, here.
    const routed = await routeGeneration(c, dispatcher, req.model, {
      endpoint: 'completions',
      request: req,
      prompt,
      maxTokens: req.max_tokens,
      stream: req.stream === true,
      includeUsage: req.stream_options?.include_usage === true,
    });
    if ('response' in routed) return routed.response;
    const model = await resolve(c, routed.model);
    const requestId = c.get('requestId');
    const plan = makePlan(model, prompt, req, DEFAULT_MAX_TOKENS, requestId, 'prompt');
    plan.n = req.n ?? 1;
    const base = {
      id: `cmpl-${requestId}`,
      created: Math.floor(Date.now() / 1000),
      model: model.manifest.id,
      system_fingerprint: FINGERPRINT,
    };
    const servedBy = `edge:${model.manifest.id}`;
    const replay = await admit(c, plan, {
      endpoint: 'completions',
      model: model.manifest.id,
      placement: 'edge',
      servedBy,
      request: req,
    });
    // A replayed result has its usage already; anything else restores its cached prefix, if any.
    if (!replay) await attachPromptCache(c, plan, model, req.cache);
    // A stream is a fresh Response: it carries the request id itself.
    const headers: Record<string, string> = {
      'x-request-id': requestId,
      'x-served-by': servedBy,
      ...routed.headers,
      ...(replay ? { 'idempotent-replayed': 'true' } : {}),
    };
    const echo = req.echo ? prompt : '';

    if (req.stream) {
      const offsets: number[] = []; // per choice: text_offset of its next streamed token
      const chunk = (
        text: string,
        finish: FinishReason,
        index: number,
        logprobs: Completion['choices'][0]['logprobs'] = null,
      ) => completionChunk(base, index, text, finish, logprobs, plan.includeUsage);
      const frames: Frames = {
        opening: (index) => {
          offsets[index] = echo.length;
          return echo ? [chunk(echo, null, index)] : [];
        },
        delta: (text, logprobs, index) => {
          const lp = logprobs ? completionLogprobs(logprobs, offsets[index]) : null;
          offsets[index] += text.length;
          return chunk(text, null, index, lp);
        },
        finish: (reason, usage, index) => ({
          ...chunk('', reason, index),
          ...(usage ? { usage } : {}),
        }),
        usage: (usage: Usage) => completionUsageChunk(base, usage),
      };
      return replay
        ? replayStream(replay, frames, plan.includeUsage, headers)
        : streamResponse(plan, frames, headers);
    }

    const result = replay ?? (await runToEnd(plan, c.req.raw.signal));
    const body: Completion = {
      ...base,
      object: 'text_completion',
      choices: (result.choices ?? [result]).map((choice, index) => ({
        index,
        text: echo + choice.text,
        logprobs: choice.logprobs ? completionLogprobs(choice.logprobs, echo.length) : null,
        finish_reason: choice.finishReason,
      })),
      usage: result.usage,
    };
    return c.json(body, 200, { ...headers, ...costHeaders(result.usage) });
  });
  return app;
}
