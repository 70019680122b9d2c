// Relaying an origin's generation to the client. A content frame is passed through as text with
// our id, model and usage field (frame-pass.ts: never parsed, so a token costs a few string ops);
// finishes, errors and usage chunks are parsed. The finish frame waits only for the usage that
// follows it, so the stream ends with the cost, as the edge's streams do. With `n` > 1 each
// choice's finish goes on when the next one arrives; the last one carries the cost. What was said
// (text, tool calls, reasoning) is assembled from the frames only when a replay needs it.
import { makeUsage, type Cost, type Usage } from '../protocol/usage';
import { Assembler, normalizeUsage, type ChunkChoice } from './assemble';
import { passFrame, passTarget, type PassTarget } from './frame-pass';
import type { OpenedUpstream } from './upstream';
import { sseResponse } from '../protocol/sse';

export { normalizeUsage } from './assemble';
export { collect } from './collect';

export type RelayStatus = 'completed' | 'failed' | 'disconnected';

/** One finished choice, as a replay rebuilds it. */
export interface RelayChoice {
  text: string;
  /** DeepSeek reasoner's `reasoning_content`, when the origin sends one. */
  reasoning: string;
  finishReason: 'stop' | 'length' | 'content_filter';
}

/** A finished generation: choice 0 at the top (and all of them in `choices` when n > 1), usage, and the JSON answer when one was built. */
export interface RelayResult extends RelayChoice {
  usage: Usage;
  choices?: RelayChoice[];
  /** The JSON answer's `choices`, exactly as the client got them (JSON answers only). */
  body?: object[];
}

export interface RelayContext {
  id: string;
  model: string;
  created: number;
  /** The chunk `object` of this endpoint. */
  object: 'chat.completion.chunk' | 'text_completion';
  includeUsage: boolean;
  /** Prompt tokens to bill when the origin never reported usage (it failed or the client left first). */
  promptEstimate: number;
  /** Bills what happened (exactly once) and returns the cost to report. */
  settle(status: RelayStatus, result: RelayResult): Promise<Cost | undefined>;
}

export type Frame = {
  object?: string;
  id?: string;
  model?: string;
  created?: number;
  error?: unknown;
  message?: string;
  usage?: Record<string, unknown> | Usage | null;
  choices?: ChunkChoice[];
};

export class UpstreamStreamError extends Error {
  constructor(readonly detail: unknown) {
    super(`the origin sent an error: ${JSON.stringify(detail)}`);
  }
}

/** A frame parsed; an error frame (`{"error":…}`, or vLLM's and SGLang's `{"object":"error",…}`) throws. */
export function parseFrame(data: string): Frame {
  const frame = JSON.parse(data) as Frame;
  if (frame.error) throw new UpstreamStreamError(frame.error);
  if (frame.object === 'error') throw new UpstreamStreamError(frame);
  return frame;
}

export const finishOf = (r: string | null | undefined): RelayChoice['finishReason'] =>
  r === 'length' || r === 'content_filter' ? r : 'stop';

/** The streamed generation so far: the frames seen (kept as text), the usage, the held finish. */
class StreamWalk {
  readonly raw: string[] = [];
  frames = 0;
  private usage: Usage | null = null;
  private usageText: string | null = null;
  finish: Frame | null = null;
  usageFrame: Frame | null = null;
  done = false;
  private readonly target: PassTarget;

  constructor(private readonly ctx: RelayContext) {
    this.target = passTarget(ctx.id, ctx.model, ctx.created, ctx.includeUsage);
  }

  /** Reads one upstream frame; returns what to send on now ('' for nothing). Throws on an error frame. */
  take(data: string): string {
    if (data === '[DONE]') {
      this.done = true;
      return '';
    }
    this.raw.push(data);
    const passed = passFrame(data, this.target);
    if (passed) {
      if (data.indexOf('"role":') < 0) this.frames++;
      if (passed.usage) this.usageText = passed.usage;
      return `data: ${passed.text}\n\n`;
    }
    const frame = parseFrame(data);
    if (frame.usage) {
      this.usage = normalizeUsage(frame.usage as Record<string, unknown>);
      this.usageText = null;
    }
    const choices = frame.choices ?? [];
    if (choices.length === 0) {
      this.usageFrame = frame;
      return '';
    }
    if (choices.some((c) => c.text || c.delta?.content)) this.frames++;
    if (!choices.some((c) => c.finish_reason)) return this.rewrite(frame);
    // A finish waits for the usage after it; an earlier choice's finish goes on now.
    const previous = this.finish;
    this.finish = frame;
    return previous ? this.rewrite(previous) : '';
  }

  /** Usage as the origin last reported it (or the frames seen), at least what was sent if unfinished. */
  usageNow(): Usage {
    const usage =
      this.usage ??
      (this.usageText
        ? normalizeUsage(JSON.parse(this.usageText) as Record<string, unknown>)
        : makeUsage(this.ctx.promptEstimate, this.frames));
    if (!this.finish && usage.completion_tokens < this.frames)
      Object.assign(
        usage,
        makeUsage(usage.prompt_tokens, this.frames, usage.prompt_cache_hit_tokens),
      );
    return usage;
  }

  /** The result to bill; what was said is assembled from the frames only if asked (a replay). */
  result(): RelayResult {
    const raw = this.raw;
    let choices: RelayChoice[] | null = null;
    const all = () => (choices ??= assembleChoices(raw));
    return {
      usage: this.usageNow(),
      get text() {
        return all()[0]?.text ?? '';
      },
      get reasoning() {
        return all()[0]?.reasoning ?? '';
      },
      get finishReason() {
        return all()[0]?.finishReason ?? 'stop';
      },
      get choices() {
        return all().length > 1 ? all() : undefined;
      },
    };
  }

  /** Our id and model on a parsed frame; usage only where the client asked for it. */
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

/** Each choice's text, reasoning and finish, from the frames as received. */
function assembleChoices(raw: readonly string[]): RelayChoice[] {
  const a = new Assembler();
  for (const data of raw) {
    const frame = JSON.parse(data) as Frame;
    if (frame.choices) a.add(frame.choices);
  }
  return a.summaries().map((c) => ({ ...c, finishReason: finishOf(c.finishReason) }));
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

/**
 * SSE text for the client, one write per upstream read (frames held before the first output go
 * with it); an error after the first byte becomes an error frame.
 */
export async function* relay(
  up: OpenedUpstream,
  ctx: RelayContext,
  errorFrame: (err: unknown) => object,
  state = { cancelled: false },
): AsyncGenerator<string> {
  const walk = new StreamWalk(ctx);
  let settled = false;
  try {
    let out = '';
    for (const data of up.first) out += walk.take(data);
    if (out) yield out;
    while (!walk.done) {
      const data = await up.next();
      if (data === null) break;
      out = walk.take(data);
      for (const more of up.drain()) out += walk.take(more);
      if (out) yield out;
    }
    if (!walk.finish) throw new Error('the origin ended the stream before finishing');
    const result = walk.result();
    settled = true;
    const cost = await ctx.settle('completed', result);
    if (cost) result.usage.cost = cost;
    let end = walk.rewrite(walk.finish, ctx.includeUsage || !cost ? undefined : result.usage);
    if (ctx.includeUsage)
      end += walk.rewrite(
        { ...(walk.usageFrame ?? { object: ctx.object }), choices: [] },
        result.usage,
      );
    yield `${end}data: [DONE]\n\n`;
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
