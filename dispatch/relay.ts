// Relaying an origin's generation to the client: each upstream frame is rewritten (our id and
// model, usage in both shapes) and sent on as it arrives; the finish frame waits only for the
// usage that follows it, so the stream can end with the cost, as the edge's streams do. The same
// walk over the frames also collects a whole JSON answer. A reasoning model's origin that sends
// its think block as raw text has it split into `reasoning_content` here (protocol/reasoning.ts);
// an origin that sends `reasoning_content` itself (vLLM, SGLang with a reasoning parser) passes through.
import { ThinkSplitter } from '../protocol/reasoning';
import { makeUsage, type Cost, type Usage } from '../protocol/usage';
import type { OpenedUpstream } from './upstream';
import { sseResponse } from '../protocol/sse';

export type RelayStatus = 'completed' | 'failed' | 'disconnected';

export interface RelayResult {
  text: string;
  /** DeepSeek reasoner's `reasoning_content`, when the origin sends one. */
  reasoning: string;
  finishReason: 'stop' | 'length' | 'content_filter';
  usage: Usage;
}

export interface RelayContext {
  id: string;
  model: string;
  created: number;
  /** The chunk `object` of this endpoint. */
  object: 'chat.completion.chunk' | 'text_completion';
  includeUsage: boolean;
  /** Chat of a reasoning generation: split raw `<think>` text into `reasoning_content`. */
  reasoning?: boolean;
  /** Prompt tokens to bill when the origin never reported usage (it failed or the client left first). */
  promptEstimate: number;
  /** Bills what happened (exactly once) and returns the cost to report. */
  settle(status: RelayStatus, result: RelayResult): Promise<Cost | undefined>;
}

type Frame = {
  object?: string;
  id?: string;
  model?: string;
  created?: number;
  error?: unknown;
  usage?: Record<string, unknown> | Usage | null;
  choices?: {
    text?: string;
    delta?: { content?: string | null; reasoning_content?: string | null };
    finish_reason?: string | null;
  }[];
};

/** Usage from any OpenAI-compatible origin in our shape: vLLM and SGLang report cache hits only as `prompt_tokens_details.cached_tokens`. */
export function normalizeUsage(raw: Record<string, unknown>): Usage {
  const n = (v: unknown) =>
    typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0;
  const prompt = n(raw.prompt_tokens);
  const details = raw.prompt_tokens_details as { cached_tokens?: unknown } | null | undefined;
  const cached = Math.min(prompt, n(raw.prompt_cache_hit_tokens ?? details?.cached_tokens));
  const usage = makeUsage(prompt, n(raw.completion_tokens), cached);
  const reasoning = (
    raw.completion_tokens_details as { reasoning_tokens?: unknown } | null | undefined
  )?.reasoning_tokens;
  if (typeof reasoning === 'number')
    usage.completion_tokens_details = { reasoning_tokens: n(reasoning) };
  return usage;
}

/** The walk over one upstream generation: what was produced so far, frame by frame. */
class Walk {
  text = '';
  reasoning = '';
  frames = 0;
  usage: Usage | null = null;
  finish: Frame | null = null;
  finishReason: RelayResult['finishReason'] | null = null;
  usageFrame: Frame | null = null;
  done = false;
  /** Frames of `reasoning_content` the origin sent itself: its reasoning tokens, when it reports none. */
  private reasoningFrames = 0;
  /** Splits raw think text until the origin shows it sends `reasoning_content` itself. */
  private splitter: ThinkSplitter | null;

  constructor(private readonly ctx: RelayContext) {
    this.splitter = ctx.reasoning ? new ThinkSplitter() : null;
  }

  /** Reads one upstream frame; returns the frames to send on now. Throws on an error frame. */
  take(data: string): Frame[] {
    if (data === '[DONE]') {
      this.done = true;
      return [];
    }
    const frame = JSON.parse(data) as Frame;
    const choice = frame.choices?.[0];
    if (choice?.delta?.reasoning_content) {
      this.splitter = null;
      this.reasoningFrames++;
    }
    if (!this.splitter || !choice || (!choice.delta?.content && !choice.finish_reason))
      return this.takeOne(frame);
    const split = this.splitter.push(choice.delta?.content ?? '');
    if (choice.finish_reason) {
      const rest = this.splitter.end();
      split.reasoning += rest.reasoning;
      split.content += rest.content;
    }
    type Delta = NonNullable<typeof choice.delta>;
    const piece = (delta: Delta, finish: string | null = null) =>
      this.takeOne({ ...frame, choices: [{ ...choice, delta, finish_reason: finish }] });
    return [
      ...(split.reasoning ? piece({ content: null, reasoning_content: split.reasoning }) : []),
      ...(split.content ? piece({ content: split.content }) : []),
      ...(choice.finish_reason ? piece({}, choice.finish_reason) : []),
    ];
  }

  private takeOne(frame: Frame): Frame[] {
    if (frame.error) throw new UpstreamStreamError(frame.error);
    if (frame.usage) this.usage = normalizeUsage(frame.usage as Record<string, unknown>);
    const choice = frame.choices?.[0];
    if (!choice) {
      this.usageFrame = frame;
      return [];
    }
    const piece = choice.text ?? choice.delta?.content ?? '';
    if (piece || choice.delta?.reasoning_content) this.frames++;
    this.text += piece;
    this.reasoning += choice.delta?.reasoning_content ?? '';
    if (choice.finish_reason) {
      const r = choice.finish_reason;
      this.finishReason = r === 'length' || r === 'content_filter' ? r : 'stop';
      this.finish = frame;
      return [];
    }
    return [frame];
  }

  result(): RelayResult {
    const usage = this.usage ?? makeUsage(this.ctx.promptEstimate, this.frames);
    // Frames are not tokens (one may carry several): a think block never closed is every token.
    const tokens = this.splitter?.thinking
      ? usage.completion_tokens
      : (this.splitter?.reasoningTokens ?? 0) + this.reasoningFrames;
    if (tokens && !usage.completion_tokens_details)
      usage.completion_tokens_details = { reasoning_tokens: tokens };
    // A partial generation bills at least what was seen, whatever the last usage said.
    if (usage.completion_tokens < this.frames)
      Object.assign(
        usage,
        makeUsage(usage.prompt_tokens, this.frames, usage.prompt_cache_hit_tokens),
      );
    return {
      text: this.text,
      reasoning: this.reasoning,
      finishReason: this.finishReason ?? 'stop',
      usage,
    };
  }

  /** Our id and model on every frame; usage only where the client asked for it. */
  rewrite(frame: Frame, usage?: Usage): string {
    frame.id = this.ctx.id;
    frame.model = this.ctx.model;
    frame.created = this.ctx.created;
    if (usage) frame.usage = usage;
    else if (this.ctx.includeUsage) frame.usage = null;
    else delete frame.usage;
    return `data: ${JSON.stringify(frame)}\n\n`;
  }
}

export class UpstreamStreamError extends Error {
  constructor(readonly detail: unknown) {
    super(`the origin sent an error: ${JSON.stringify(detail)}`);
  }
}

/**
 * The upstream's frames to send on, in order: those held before the first output, then the rest,
 * in batches of what each upstream read delivered (one write each, not one per frame).
 */
async function* framesOf(up: OpenedUpstream, walk: Walk): AsyncGenerator<Frame[]> {
  const take = (batch: string[]) => batch.flatMap((data) => walk.take(data));
  yield take(up.first);
  while (!walk.done) {
    const data = await up.next();
    if (data === null) break;
    yield take([data, ...up.drain()]);
  }
  if (!walk.finish) throw new Error('the origin ended the stream before finishing');
}

/** The whole generation, for a JSON answer. Billing is the caller's: on a throw nothing was delivered. */
export async function collect(up: OpenedUpstream, ctx: RelayContext): Promise<RelayResult> {
  const walk = new Walk(ctx);
  try {
    for await (const _ of framesOf(up, walk)) {
      // Every frame is in the walk's totals already.
    }
    return walk.result();
  } finally {
    up.close();
  }
}

/** The relayed stream as a Response. A client that goes away ends the upstream request at once. */
export function relayResponse(
  up: OpenedUpstream,
  ctx: RelayContext,
  errorFrame: (err: unknown) => object,
  headers: Record<string, string>,
): Response {
  const state = { cancelled: false };
  const source = relay(up, ctx, errorFrame, state);
  return sseResponse(source, headers, async () => {
    state.cancelled = true;
    // Closing the upstream wakes a relay waiting on the origin; it then settles as disconnected.
    up.close();
    await source.return(undefined);
  });
}

/** SSE frames for the client, each as soon as the origin sends it; an error after the first byte becomes an error frame. */
export async function* relay(
  up: OpenedUpstream,
  ctx: RelayContext,
  errorFrame: (err: unknown) => object,
  state = { cancelled: false },
): AsyncGenerator<string> {
  const walk = new Walk(ctx);
  let settled = false;
  try {
    for await (const batch of framesOf(up, walk))
      if (batch.length) yield batch.map((f) => walk.rewrite(f)).join('');
    const result = walk.result();
    settled = true;
    const cost = await ctx.settle('completed', result);
    if (cost) result.usage.cost = cost;
    yield walk.rewrite(walk.finish!, ctx.includeUsage || !cost ? undefined : result.usage);
    if (ctx.includeUsage)
      yield walk.rewrite(
        { ...(walk.usageFrame ?? { object: ctx.object }), choices: [] },
        result.usage,
      );
    yield 'data: [DONE]\n\n';
  } catch (err) {
    if (settled) throw err;
    settled = true;
    if (state.cancelled) {
      await ctx.settle('disconnected', walk.result());
      return;
    }
    console.error(`relay ${ctx.id} failed mid-stream:`, err);
    await ctx.settle('failed', walk.result());
    yield `data: ${JSON.stringify(errorFrame(err))}\n\n`;
  } finally {
    up.close();
    // The client went away between frames: it pays for the prompt and the tokens it was sent.
    if (!settled) await ctx.settle('disconnected', walk.result());
  }
}
