// One edge generation, answered as a JSON body or an SSE stream. Chat and text completions differ
// only in their frame shapes (protocol's `Frames`); the engine run, stop handling, usage and billing
// live here once (a stored result is replayed by protocol/replay.ts). A reasoning chat's think block
// is split off as it streams (protocol/reasoning.ts) and sent as `reasoning_content`.
// Billing: the plan's meter is told exactly once how the generation ended: completed, failed, or
// abandoned by the client (a cancelled stream or an aborted JSON request), with the tokens produced.
import type { Context } from 'hono';
import type { Admission, Meter, Outcome } from '../billing/meter';
import { countsOf } from '../billing/wire';
import type { PromptCacheUse } from '../dispatch/prompt-cache';
import type {
  GeneratedToken,
  GenerateOptions,
  GenerationResult as EngineResult,
} from '../engine/index';
import type { TextEngine } from '../engine/text-engine';
import type { LatencyClock } from '../protocol/latency';
import { toApiError } from '../protocol/error-response';
import { ApiError } from '../protocol/errors';
import type { Choice, Frames, Head } from '../protocol/frames';
import { LogprobCollector } from '../protocol/logprobs';
import { closingFrames, type FinishedGeneration } from '../protocol/replay';
import type { Constraint } from '../engine/sampling/constraint';
import { ToolCallStream, type ToolSyntax } from '../protocol/tool-calls';
import { choiceOf, deltaFrame } from './tool-output';
import { ChoiceText, type ThinkSplitter } from '../protocol/reasoning';
import { sseFrame, sseResponse } from '../protocol/sse';
import { makeUsage, type Usage } from '../protocol/usage';
import type { AppEnv } from './env';

export type { Frames };

export interface GenerationPlan {
  engine: TextEngine;
  promptIds: number[];
  options: Omit<GenerateOptions, 'signal'>;
  includeUsage: boolean;
  requestId: string;
  /** Prices and records the generation; absent where billing is off. */
  meter?: Pick<Meter, 'finish'>;
  /** The prompt cache's hit to restore and the capture that stores new blocks; absent when off. */
  promptCache?: PromptCacheUse;
  /** Choices to generate (OpenAI's `n`), one after another; default 1. */
  n?: number;
  /** Constrained decoding (response_format, tools): a fresh constraint per choice. */
  constraint?: () => Constraint;
  /** The output may hold tool calls in this syntax: they become `tool_calls`. */
  toolSyntax?: ToolSyntax;
  /** A reasoning chat: the text opens with a think block, answered as `reasoning_content`. */
  think?: boolean;
  /** The answer's id and created: stored with a completed result, so a replay is the same answer. */
  head?: Head;
  /** The request's latency clock: marked per token (a stream: per frame handed over), read at the end. */
  latency?: LatencyClock;
}

export type ChoiceResult = Choice;

/** Choice 0 at the top level (and every choice in `choices` when n > 1), with the usage of them all. */
export type GenerationResult = FinishedGeneration;

/**
 * A completed result as the ledger keeps it for idempotent replays: with the first answer's head
 * and request id, so that a replay is that answer again (Stripe's idempotency keys), not a new one.
 */
export interface StoredResult extends FinishedGeneration {
  head?: Head;
  requestId?: string;
}

/** Headers of a replayed answer: marked, and naming the request that first produced it (as Stripe's). */
export const replayedHeaders = (r: StoredResult): Record<string, string> => ({
  'idempotent-replayed': 'true',
  ...(r.requestId ? { 'original-request': r.requestId } : {}),
});

/**
 * The engine run of one choice: the plan's options (choice i samples with seed + i), the prompt-cache
 * restore (every choice) and capture (the first), the client's signal.
 */
const generate = (plan: GenerationPlan, signal: AbortSignal | undefined, choice = 0) =>
  plan.engine.generate(plan.promptIds, {
    ...plan.options,
    ...(plan.options.seed === undefined ? {} : { seed: plan.options.seed + choice }),
    signal,
    constraint: plan.constraint?.(),
    restore: plan.promptCache?.restore,
    restoreLatent: plan.promptCache?.latents,
    capture: choice === 0 ? plan.promptCache?.capture : undefined,
  });

const choicesOf = (plan: GenerationPlan) => plan.n ?? 1;

/** Collects the run's logprobs when the request asked for them. */
const collectorOf = (plan: GenerationPlan) =>
  plan.options.logprobs === undefined
    ? null
    : new LogprobCollector(plan.engine.tokenizer, plan.promptIds);

/**
 * Usage of finished runs (the prompt counts once): hits are the prompt tokens really restored, but
 * never more than the prompt cache held before this request (rows a prefill origin computed for it are
 * restored too, and billed as computed).
 */
const usageOf = (plan: GenerationPlan, runs: EngineResult[]): Usage => {
  const restored = runs[0].cachedTokens ?? 0;
  const handoff = plan.promptCache?.handoff;
  return makeUsage(
    runs[0].promptTokens,
    runs.reduce((n, r) => n + r.completionTokens, 0),
    handoff ? Math.min(restored, plan.promptCache!.hitTokens) : restored,
  );
};

const resultOf = (
  plan: GenerationPlan,
  choices: ChoiceResult[],
  runs: EngineResult[],
  splits: (ThinkSplitter | null)[] = [],
): GenerationResult => {
  const usage = usageOf(plan, runs);
  if (splits.some((s) => s !== null))
    usage.completion_tokens_details = {
      reasoning_tokens: splits.reduce((n, s) => n + (s?.reasoningTokens ?? 0), 0),
    };
  return { ...choices[0], usage, ...(choices.length > 1 ? { choices } : {}) };
};

/** 503 + retry-after when the engine's sessions and wait queue are full (as an origin pool's `saturated`). */
function checkCapacity(plan: GenerationPlan, model: string): void {
  const refusal = plan.engine.admit?.();
  if (!refusal) return;
  const retryAfter = Math.max(1, Math.ceil(refusal.retryAfterMs / 1000));
  throw new ApiError(
    503,
    `Model '${model}' is overloaded (${refusal.reason}); retry after ${retryAfter} s.`,
    'service_unavailable',
    'model_overloaded',
    null,
    retryAfter,
  );
}

/**
 * Admits the plan: the engine must have room (else 503 + retry-after), then the request's meter
 * (limits, price, balance reservation; throws 402/409/422/429). Returns the stored result when this
 * is a retry of a completed idempotent request.
 */
export async function admit(
  c: Context<AppEnv>,
  plan: GenerationPlan,
  a: Omit<Admission, 'promptTokens' | 'maxTokens'>,
): Promise<StoredResult | null> {
  checkCapacity(plan, a.model);
  const meter = c.get('meter');
  if (!meter) return null;
  let replay: string | null;
  try {
    replay = await meter.admit({
      ...a,
      promptTokens: plan.promptIds.length,
      maxTokens: plan.options.maxTokens * choicesOf(plan),
    });
  } catch (err) {
    // refused by limits or balance: its engine place must not hold back paying requests
    plan.engine.withdraw?.();
    throw err;
  }
  plan.meter = meter;
  if (replay === null) return null;
  plan.engine.withdraw?.();
  return JSON.parse(replay) as StoredResult;
}

const failed = (plan: GenerationPlan, completionTokens: number): Outcome => ({
  status: 'failed',
  promptTokens: plan.promptIds.length,
  cachedTokens: plan.promptCache?.hitTokens ?? 0,
  completionTokens,
  timing: plan.latency?.finish(completionTokens),
});

/** Settles a finished generation and puts its cost into its usage. */
async function billed(
  plan: GenerationPlan,
  result: GenerationResult,
  aborted: boolean,
): Promise<GenerationResult> {
  // Before settling: the ledger records it, and a replay repeats it (the first answer again).
  if (plan.latency) result.usage.timing = plan.latency.finish(result.usage.completion_tokens);
  const replay = (cost: Usage['cost']) =>
    JSON.stringify({
      ...result,
      usage: { ...result.usage, cost },
      head: plan.head,
      requestId: plan.requestId,
    } satisfies StoredResult);
  const cost = await plan.meter?.finish({
    status: aborted ? 'disconnected' : 'completed',
    ...countsOf(result.usage),
    timing: result.usage.timing,
    replay,
  });
  if (cost) result.usage.cost = cost;
  return result;
}

/** Runs every choice to the end (or abort) and returns the texts. A failure bills nothing: nothing was delivered. */
export async function runToEnd(
  plan: GenerationPlan,
  signal?: AbortSignal,
): Promise<GenerationResult> {
  const choices: ChoiceResult[] = [];
  const runs: EngineResult[] = [];
  const splits: (ThinkSplitter | null)[] = [];
  try {
    for (let i = 0; i < choicesOf(plan) && runs.at(-1)?.finishReason !== 'abort'; i++) {
      const iterator = generate(plan, signal, i);
      const logprobs = collectorOf(plan);
      const text = new ChoiceText(plan.think);
      splits.push(text.split);
      for (let step = await iterator.next(); ; step = await iterator.next()) {
        if (step.done) {
          text.end();
          runs.push(step.value);
          choices.push(choiceOf(plan, text.fields(), step.value.finishReason, logprobs));
          break;
        }
        plan.latency?.mark();
        text.push(step.value.text);
        logprobs?.push(step.value);
      }
    }
    const result = resultOf(plan, choices, runs, splits);
    return await billed(plan, result, runs.at(-1)!.finishReason === 'abort');
  } catch (err) {
    await plan.meter?.finish(failed(plan, 0));
    throw err;
  }
}

/**
 * Streams the generation as SSE. A client that goes away cancels the body, which aborts decoding;
 * so does `clientSignal` (the request's), for a client gone before its first frame reached it (a
 * long prefill holds the headers), whose body the runtime may still pull. Either way what was sent
 * is billed, once. An error after the first byte becomes an `error` frame, and the stream closes.
 */
export function streamResponse(
  plan: GenerationPlan,
  frames: Frames,
  headers: Record<string, string>,
  clientSignal?: AbortSignal,
): Response {
  const abort = new AbortController();
  const state = { settled: false };
  const source = sseFrames(plan, frames, abort.signal, state);
  let ended: Promise<void> | null = null;
  const end = () =>
    (ended ??= (async () => {
      abort.abort();
      await source.return(undefined);
      // Ended before its first pull, the generator never ran and so never settled.
      if (!state.settled) {
        state.settled = true;
        await plan.meter?.finish({ ...failed(plan, 0), status: 'disconnected' });
      }
    })());
  if (clientSignal?.aborted) void end();
  else clientSignal?.addEventListener('abort', () => void end(), { once: true });
  return sseResponse(source, headers, end);
}

async function* sseFrames(
  plan: GenerationPlan,
  frames: Frames,
  signal: AbortSignal,
  state: { settled: boolean },
): AsyncGenerator<string> {
  const choices: ChoiceResult[] = [];
  const runs: EngineResult[] = [];
  const splits: (ThinkSplitter | null)[] = [];
  let tokens: AsyncGenerator<GeneratedToken, EngineResult> | null = null;
  // What a stream bills when it does not complete: the tokens whose frames were handed to the
  // response body (`delivered`), not those the engine produced but nobody took (`held`: text held
  // back for a stop string, or the token of a frame not yet pulled). The body is pulled with no
  // read-ahead (protocol/sse.ts), so a frame is made only when the connection asks for one;
  // what the client then read of the bytes sent, no server can know (docs/errors.md "Billing").
  let delivered = 0;
  let held = 0;
  /** The choice's tool-call splitter, when the request offered tools (protocol/tool-calls.ts). */
  let calls: ToolCallStream | null = null;
  /**
   * The frames of one piece: its reasoning first, then its content (as content or tool-call
   * deltas). The logprob entries since the last frame ride on the first frame made; a piece held
   * back whole (a tag or a call not yet complete) makes none, and they wait for the next.
   */
  const framesOf = (
    piece: { reasoning: string; content: string },
    i: number,
    logprobs: LogprobCollector | null,
  ) => {
    const out: string[] = [];
    const lp = () => (out.length === 0 ? logprobs?.take() : undefined);
    if (piece.reasoning && frames.reasoning)
      out.push(sseFrame(frames.reasoning(piece.reasoning, i, lp())));
    if (piece.content && calls)
      for (const e of calls.push(piece.content)) out.push(sseFrame(deltaFrame(frames, e, lp(), i)));
    else if (piece.content) out.push(sseFrame(frames.delta(piece.content, lp(), i)));
    return out;
  };
  try {
    for (let i = 0; i < choicesOf(plan); i++) {
      tokens = generate(plan, signal, i);
      const logprobs = collectorOf(plan);
      const text = new ChoiceText(plan.think);
      splits.push(text.split);
      calls = plan.toolSyntax && frames.toolCall ? new ToolCallStream(plan.toolSyntax) : null;
      for (const f of frames.opening(i)) yield sseFrame(f);
      for (let step = await tokens.next(); ; step = await tokens.next()) {
        if (step.done) {
          const tail = [
            ...framesOf(text.end(), i, logprobs),
            ...(calls?.flush() ?? []).map((e) => sseFrame(deltaFrame(frames, e, undefined, i))),
          ];
          if (tail.length > 0) {
            delivered += held;
            held = 0;
            plan.latency?.mark();
            yield* tail;
          }
          runs.push(step.value);
          choices.push(
            choiceOf(plan, text.fields(), step.value.finishReason, logprobs, calls ?? undefined),
          );
          break;
        }
        held++;
        logprobs?.push(step.value);
        // Every token is pushed, so each counts (a reasoning token may hold part of a character).
        const piece = text.push(step.value.text);
        if (step.value.text) {
          const out = framesOf(piece, i, logprobs);
          if (out.length > 0) {
            // Counted before the yield: a frame is handed over at the yield, which a cancel never resumes.
            delivered += held;
            held = 0;
            plan.latency?.mark();
            yield* out;
          }
        }
      }
      if (runs[i].finishReason === 'abort') return; // the client went away: `finally` bills what it was sent
      if (i === choicesOf(plan) - 1) {
        state.settled = true;
        yield* closingFrames(
          await billed(plan, resultOf(plan, choices, runs, splits), false),
          i,
          frames,
          plan.includeUsage,
        );
        return;
      }
      yield sseFrame(frames.finish(choices[i].finishReason, undefined, i));
    }
  } catch (err) {
    console.error(`request ${plan.requestId} failed mid-stream:`, err);
    // The tokens already streamed were delivered: they (and the prompt) are billed, nothing more.
    if (!state.settled) await plan.meter?.finish(failed(plan, delivered));
    state.settled = true;
    yield sseFrame(toApiError(err).toJSON());
  } finally {
    await tokens?.return(undefined as never);
    // The client went away mid-stream: bill the prompt and the tokens it was sent.
    if (!state.settled)
      await plan.meter?.finish({ ...failed(plan, delivered), status: 'disconnected' });
    state.settled = true;
  }
}
