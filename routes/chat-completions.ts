// POST /v1/chat/completions (also at the root and under /beta) — OpenAI/DeepSeek chat, JSON or SSE:
// DeepSeek's prefix completion and thinking switch are rendered by the chat template
// (engine/tokenizers/chat-template.ts), a reasoning answer split by routes/generation.ts.
import { Hono } from 'hono';
import { costHeaders } from '../billing/wire';
import type { Dispatcher } from '../dispatch/dispatcher';
import { chatPromptText, serveOnPlacement } from '../dispatch/placement';
import { readBody } from '../protocol/body';
import { systemFingerprint } from '../protocol/fingerprint';
import { chatFrames } from '../protocol/endpoint-frames';
import { replayStream } from '../protocol/replay';
import { chatCompletionRequest } from '../protocol/requests';
import { chatPrompt, constrain } from './chat-prompt';
import { placementRequest } from './context';
import type { AppEnv } from './env';
import { admit, replayedHeaders, runToEnd, streamResponse } from './generation';
import type { ModelResolver } from './models';
import { attachPromptCache, makePlan, promptHeaders } from './plan';

export function chatCompletions(resolve: ModelResolver, dispatcher: Dispatcher) {
  const app = new Hono<AppEnv>();
  app.post('/', async (c) => {
    // An all-empty conversation is refused by the schema (protocol/requests.ts), before any billing.
    const req = await readBody(c, chatCompletionRequest);
    // An origin model is answered by its origin (dispatch/); an edge model, or an origin model's edge fallback, here.
    const routed = await serveOnPlacement(dispatcher, placementRequest(c), req.model, {
      endpoint: 'chat.completions',
      request: req,
      prompt: chatPromptText(req.messages, req.tools),
      maxTokens: req.max_tokens ?? req.max_completion_tokens,
      stream: req.stream === true,
      includeUsage: req.stream_options?.include_usage === true,
    });
    if ('response' in routed) return routed.response;
    const model = await resolve(c, routed.model);
    const requestId = c.get('requestId');
    const fields = { ...req, max_tokens: req.max_tokens ?? req.max_completion_tokens };
    const { prompt, reasoning } = chatPrompt(model, req, routed.reasoning);
    // A model's own chat template writes its BOS; the plain template gets the tokenizer's.
    const plan = makePlan(model, prompt, fields, 'context', requestId, 'messages', {
      bos: !model.chatTemplate,
    });
    plan.n = req.n ?? 1;
    plan.latency = c.get('latency');
    plan.think = reasoning;
    constrain(plan, model, req);
    const id = `chatcmpl-${requestId}`;
    const created = Math.floor(Date.now() / 1000);
    const base = {
      id,
      created,
      model: routed.shownAs,
      system_fingerprint: systemFingerprint('edge', model.weightsDigest),
    };
    const servedBy = `edge:${model.manifest.id}`;
    const replay = await admit(c, plan, {
      endpoint: 'chat.completions',
      model: model.manifest.id,
      placement: 'edge',
      servedBy,
      request: req,
    });
    // A replayed result has its usage already; anything else restores its cached prefix, if any.
    if (!replay) await attachPromptCache(c, plan, model, req.cache, dispatcher);
    // A replay is the first answer again: its id and created (its own request keeps its own x-request-id).
    const head = replay?.head ?? base;
    plan.head = base;
    // A stream is a fresh Response: it carries the request id itself.
    const headers: Record<string, string> = {
      'x-request-id': requestId,
      'x-served-by': servedBy,
      ...routed.headers,
      ...promptHeaders(plan),
      ...(replay ? replayedHeaders(replay) : {}),
    };

    const frames = chatFrames(head, plan.includeUsage);
    if (req.stream)
      return replay
        ? replayStream(replay, frames, plan.includeUsage, headers)
        : streamResponse(plan, frames, headers, c.req.raw.signal);

    const result = replay ?? (await runToEnd(plan, c.req.raw.signal));
    const body = frames.body(result.choices ?? [result], result.usage);
    return c.json(body, 200, { ...headers, ...costHeaders(result.usage) });
  });
  return app;
}
