// One relayed stream's walk over the upstream frames: content frames passed through as text
// (frame-pass.ts), finishes, errors and usage parsed; the finish held for the usage after it; what
// was said assembled from the frames only when a replay asks for it. A raw think block is split
// into `reasoning_content` (think-frames.ts): those frames are parsed, never passed through.
import { makeUsage, type Usage } from '../protocol/usage';
import { Assembler, normalizeUsage } from './assemble';
import { passFrame, passTarget, type PassTarget } from './frame-pass';
import {
  finishOf,
  parseFrame,
  type Frame,
  type RelayChoice,
  type RelayContext,
  type RelayResult,
} from './relay-types';
import { ThinkFrames } from './think-frames';

/** The streamed generation so far: the frames seen (kept as text), the usage, the held finish. */
export class StreamWalk {
  readonly raw: string[] = [];
  frames = 0;
  private usage: Usage | null = null;
  private usageText: string | null = null;
  finish: Frame | null = null;
  usageFrame: Frame | null = null;
  done = false;
  private readonly target: PassTarget;
  private readonly think: ThinkFrames;

  constructor(private readonly ctx: RelayContext) {
    this.target = passTarget(ctx.id, ctx.model, ctx.created, ctx.includeUsage, ctx.fingerprint);
    this.think = new ThinkFrames(ctx.reasoning);
  }

  /** Reads one upstream frame; returns what to send on now ('' for nothing). Throws on an error frame. */
  take(data: string): string {
    if (data === '[DONE]') {
      this.done = true;
      return '';
    }
    const passed = this.think.splitting ? null : passFrame(data, this.target);
    if (passed) {
      this.raw.push(data);
      this.think.noteRaw(data);
      if (data.indexOf('"role":') < 0) this.frames++;
      if (passed.usage) this.usageText = passed.usage;
      return `data: ${passed.text}\n\n`;
    }
    const frame = parseFrame(data);
    const choices = frame.choices ?? [];
    if (choices.some((c) => c.text || c.delta?.content || c.delta?.reasoning_content))
      this.frames++;
    const split = this.think.split(frame);
    if (split.length === 1 && split[0] === frame) {
      this.raw.push(data);
      return this.takeFrame(frame);
    }
    let out = '';
    for (const piece of split) {
      this.raw.push(JSON.stringify(piece));
      out += this.takeFrame(piece);
    }
    return out;
  }

  /** A parsed frame: its usage noted, a finish held for the usage after it; the text to send now. */
  private takeFrame(frame: Frame): string {
    if (frame.usage) {
      this.usage = normalizeUsage(frame.usage as Record<string, unknown>);
      this.usageText = null;
    }
    const choices = frame.choices ?? [];
    if (choices.length === 0) {
      this.usageFrame = frame;
      return '';
    }
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
    return this.think.count(usage);
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

  /** Our id, model and fingerprint on a parsed frame; usage only where the client asked for it. */
  rewrite(frame: Frame, usage?: Usage): string {
    frame.id = this.ctx.id;
    frame.model = this.ctx.model;
    frame.created = this.ctx.created;
    frame.system_fingerprint = this.ctx.fingerprint;
    if (usage) frame.usage = usage;
    else if (this.ctx.includeUsage) frame.usage = null;
    else delete frame.usage;
    return `data: ${JSON.stringify(frame)}\n\n`;
  }

  /** The end of a finished stream: bills it, then the held finish with the cost, the usage chunk, [DONE]. */
  async ending(): Promise<string> {
    const { ctx } = this;
    const result = this.result();
    const cost = await ctx.settle('completed', result);
    if (cost) result.usage.cost = cost;
    let end = this.rewrite(this.finish!, ctx.includeUsage || !cost ? undefined : result.usage);
    if (ctx.includeUsage)
      end += this.rewrite(
        { ...(this.usageFrame ?? { object: ctx.object }), choices: [] },
        result.usage,
      );
    return `${end}data: [DONE]\n\n`;
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
