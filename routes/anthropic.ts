// POST /anthropic/v1/messages and /anthropic/v1/messages/count_tokens — Anthropic's Messages API,
// as DeepSeek serves it for Claude Code and the Anthropic SDKs. One pipeline, a second wire format:
// a request is translated (protocol/anthropic/) into the chat body of POST /v1/chat/completions and
// run through the app itself (auth, metering, placement, engine, prompt cache, billing, tool calls,
// reasoning), and its answer or stream is translated back. Errors leave in Anthropic's shape.
import { Hono, type Context } from 'hono';
import type { Dispatcher } from '../dispatch/dispatcher';
import { manifestKey } from '../dispatch/edge-manifest';
import { billTokens, chatPromptText } from '../dispatch/origin-call';
import { readBody } from '../protocol/body';
import { ApiError } from '../protocol/errors';
import { anthropicErrorResponse, apiErrorOf } from '../protocol/anthropic/errors';
import { toAnthropicMessage, type ChatAnswer } from '../protocol/anthropic/from-chat';
import { passedHeaders } from '../protocol/anthropic/headers';
import { mapModel } from '../protocol/anthropic/models';
import { countTokensRequest, messagesRequest } from '../protocol/anthropic/requests';
import {
  toChatMessages,
  toChatRequest,
  toChatThinking,
  toChatTools,
  type ChatBody,
} from '../protocol/anthropic/to-chat';
import { reasoningOn } from '../protocol/reasoning';
import { chatCompletionRequest } from '../protocol/requests';
import { anthropicStream } from './anthropic-stream';
import { chatPrompt } from './chat-prompt';
import type { AppEnv } from './env';
import { auth, requestToken } from './middleware/auth/index';
import type { ModelResolver } from './models';

/** The app's own fetch: the chat pipeline, run for a translated request. */
export type Pipeline = (request: Request, c: Context<AppEnv>) => Promise<Response>;

/** Whether a model name is served here: a registry model or alias, or an edge model in R2. */
const knownModel = (c: Context<AppEnv>, dispatcher: Dispatcher) => async (name: string) => {
  const { id } = dispatcher.registry(c.env).resolve(name);
  return (
    dispatcher.registry(c.env).get(id) !== undefined ||
    (await c.env.MODELS.head(manifestKey(id))) !== null
  );
};

/** The translated request as the chat route takes it: same key, same request id, same idempotency. */
function chatRequest(c: Context<AppEnv>, body: ChatBody): Request {
  const idempotency = c.req.header('idempotency-key');
  return new Request(new URL('/v1/chat/completions', c.req.url), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${requestToken(c, { apiKeyHeader: true })}`,
      'x-request-id': c.get('requestId'),
      ...(idempotency ? { 'idempotency-key': idempotency } : {}),
    },
    body: JSON.stringify(body),
    signal: c.req.raw.signal,
  });
}

export function anthropic(resolve: ModelResolver, dispatcher: Dispatcher, pipeline: Pipeline) {
  const app = new Hono<AppEnv>();
  app.onError((err, c) => anthropicErrorResponse(c, err));
  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('request-id', c.get('requestId'));
  });
  app.use('/v1/*', auth({ apiKeyHeader: true }));

  app.post('/v1/messages', async (c) => {
    const req = await readBody(c, messagesRequest);
    const model = await mapModel(req.model, knownModel(c, dispatcher), c.env.DEFAULT_MODEL);
    const answer = await pipeline(chatRequest(c, toChatRequest(req, model)), c);
    const headers = passedHeaders(answer.headers);
    if (!answer.ok) {
      for (const [k, v] of Object.entries(headers)) c.header(k, v);
      throw apiErrorOf(answer.status, await answer.json().catch(() => null));
    }
    const requestId = c.get('requestId');
    const cacheCreation = Number(answer.headers.get('x-prompt-cache-store-tokens') ?? 0);
    if (req.stream)
      return anthropicStream(answer, headers, {
        requestId,
        model,
        promptTokens: Number(answer.headers.get('x-prompt-tokens') ?? 0),
        cacheRead: Number(answer.headers.get('x-prompt-cache-hit-tokens') ?? 0),
        cacheCreation,
        stops: req.stop_sequences,
      });
    const chat = (await answer.json()) as ChatAnswer;
    const message = toAnthropicMessage(chat, {
      requestId,
      stops: req.stop_sequences,
      cacheCreation,
    });
    return c.json(message, 200, headers);
  });

  app.post('/v1/messages/count_tokens', async (c) => {
    const req = await readBody(c, countTokensRequest);
    const model = await mapModel(req.model, knownModel(c, dispatcher), c.env.DEFAULT_MODEL);
    const messages = toChatMessages(req);
    const named = dispatcher.registry(c.env).resolve(model);
    if (dispatcher.target(c.env, named.id).kind === 'origin') {
      // The origin's tokenizer is not in the Worker: the estimate billing uses before an origin counts.
      const text = chatPromptText(messages) + JSON.stringify(toChatTools(req));
      return c.json({ input_tokens: billTokens(text) }, 200, { 'x-token-count': 'estimate' });
    }
    const edge = await resolve(c, named.id);
    // The chat route's own validation and rendering: the count is the prompt a generation encodes.
    const chat = chatCompletionRequest.parse({
      model,
      messages,
      ...toChatTools(req),
      ...toChatThinking(req),
    });
    const reasoning = reasoningOn(named.reasoning, chat.thinking);
    const { prompt } = chatPrompt(edge, chat, reasoning);
    const ids = edge.engine.tokenizer.encode(prompt, { bos: !edge.chatTemplate, eos: false });
    return c.json({ input_tokens: ids.length });
  });

  // Both endpoints take POST only: another method is a 405 saying so, an unknown path a 404.
  app.all('*', (c) => {
    const path = new URL(c.req.url).pathname;
    if (/^\/anthropic\/v1\/messages(\/count_tokens)?\/?$/.test(path)) {
      c.header('allow', 'POST');
      throw new ApiError(
        405,
        `${c.req.method} is not allowed on ${path}; use POST.`,
        'invalid_request_error',
        'method_not_allowed',
      );
    }
    throw new ApiError(
      404,
      `Unknown endpoint: ${c.req.method} ${path}`,
      'not_found_error',
      'unknown_url',
    );
  });
  return app;
}
