// POST /v1/completions (also at the root and under /beta) — legacy text completion, JSON or SSE;
// with a `suffix`, DeepSeek's FIM completion in the model's own FIM tokens.
import { Hono } from 'hono';
import { costHeaders } from '../billing/wire';
import type { Dispatcher } from '../dispatch/dispatcher';
import { serveOnPlacement } from '../dispatch/placement';
import type { EdgeModel } from '../dispatch/edge-registry';
import { findFimTokens, renderFim } from '../engine/tokenizers/fim';
import { decodeText } from '../engine/tokenizers/decode-text';
import { readBody } from '../protocol/body';
import { systemFingerprint } from '../protocol/fingerprint';
import { invalidRequest } from '../protocol/errors';
import { completionFrames } from '../protocol/endpoint-frames';
import { echoLogprobs } from '../protocol/logprobs';
import { replayStream } from '../protocol/replay';
import { completionPrompt, completionRequest } from '../protocol/requests';
import { placementRequest } from './context';
import type { AppEnv } from './env';
import { admit, replayedHeaders, runToEnd, streamResponse } from './generation';
import type { ModelResolver } from './models';
import { attachPromptCache, makePlan } from './plan';

/** OpenAI's default for the legacy endpoint. */
const DEFAULT_MAX_TOKENS = 16;
/** DeepSeek's FIM completion writes at most 4K tokens; a request for more is refused, as there. */
export const FIM_MAX_TOKENS = 4096;

export function completions(resolve: ModelResolver, dispatcher: Dispatcher) {
  const app = new Hono<AppEnv>();
  app.post('/', async (c) => {
    const req = await readBody(c, completionRequest);
    const prompt = completionPrompt(req.prompt);
    if (typeof req.suffix === 'string' && typeof prompt !== 'string')
      throw invalidRequest(
        "Invalid value for 'prompt': a FIM completion (with a suffix) takes its prompt as text, not token ids.",
        'prompt',
      );
    if (typeof req.suffix === 'string' && (req.max_tokens ?? 0) > FIM_MAX_TOKENS)
      throw invalidRequest(
        `Invalid value for 'max_tokens': a FIM completion (with a suffix) writes at most ${FIM_MAX_TOKENS} tokens, got ${req.max_tokens}.`,
        'max_tokens',
      );
    // An origin model is answered by its origin (dispatch/); an edge model, or an origin model's edge fallback, here.
    const routed = await serveOnPlacement(dispatcher, placementRequest(c), req.model, {
      endpoint: 'completions',
      request: req,
      // token ids as text stand in for it: they pick the origin alike, and bound the reservation
      prompt: typeof prompt === 'string' ? prompt : prompt.join(' '),
      maxTokens: req.max_tokens,
      stream: req.stream === true,
      includeUsage: req.stream_options?.include_usage === true,
    });
    if ('response' in routed) return routed.response;
    const model = await resolve(c, routed.model);
    const requestId = c.get('requestId');
    const text =
      typeof req.suffix === 'string' ? fimPrompt(model, prompt as string, req.suffix) : prompt;
    const plan = makePlan(model, text, req, DEFAULT_MAX_TOKENS, requestId, 'prompt');
    const scoreEcho = req.echo === true && req.logprobs != null;
    if (scoreEcho) canScorePrompt(model, req.suffix);
    plan.n = req.n ?? 1;
    plan.latency = c.get('latency');
    const base = {
      id: `cmpl-${requestId}`,
      created: Math.floor(Date.now() / 1000),
      model: routed.shownAs,
      system_fingerprint: systemFingerprint('edge', model.weightsDigest),
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
    if (!replay) await attachPromptCache(c, plan, model, req.cache, dispatcher);
    // A replay is the first answer again: its id and created (its own request keeps its own x-request-id).
    const head = replay?.head ?? base;
    plan.head = base;
    // A stream is a fresh Response: it carries the request id itself.
    const headers: Record<string, string> = {
      'x-request-id': requestId,
      'x-served-by': servedBy,
      ...routed.headers,
      ...(replay ? replayedHeaders(replay) : {}),
    };
    const echo = !req.echo ? '' : typeof prompt === 'string' ? prompt : echoOfIds(model, prompt);

    // OpenAI's echo with logprobs scores the prompt's tokens too (after admission: it is compute)
    const echoLp = scoreEcho
      ? echoLogprobs(
          model.engine.tokenizer,
          plan.promptIds,
          await model.engine.scorePrompt!(plan.promptIds, req.logprobs!, c.req.raw.signal),
        )
      : null;
    const frames = completionFrames(head, plan.includeUsage, echo, echoLp);
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

/** Echo with logprobs needs the prompt's own tokens scored: an engine that can, and no FIM rendering around them. */
function canScorePrompt(model: EdgeModel, suffix: string | null | undefined): void {
  if (!model.engine.scorePrompt)
    throw invalidRequest(
      `Model '${model.manifest.id}' cannot score its prompt, so 'echo' with 'logprobs' is not supported for it; ask for one of them.`,
      'echo',
    );
  if (typeof suffix === 'string')
    throw invalidRequest(
      "'echo' with 'logprobs' is not supported with a 'suffix' (FIM): the model reads its prompt in FIM tokens.",
      'echo',
    );
}

/** The FIM prompt in the model's own tokens; a model without them cannot take a suffix. */
function fimPrompt(model: EdgeModel, prompt: string, suffix: string): string {
  const tokens = findFimTokens(model.engine.tokenizer);
  if (!tokens)
    throw invalidRequest(
      `Model '${model.manifest.id}' cannot fill in the middle: its tokenizer has no FIM tokens, so 'suffix' is not supported for it.`,
      'suffix',
      'fim_not_supported',
    );
  return renderFim(tokens, prompt, suffix);
}

/** Prompt ids as the echo shows them: BOS and stop tokens left out, as vLLM's skip_special_tokens. */
function echoOfIds(model: EdgeModel, ids: readonly number[]): string {
  const tok = model.engine.tokenizer;
  const special = (id: number) => id === tok.bosId || tok.stopIds.includes(id);
  return decodeText(ids, (prev, id) => (special(id) ? NONE : tok.decodePiece(prev, id)));
}

const NONE = new Uint8Array(0);
