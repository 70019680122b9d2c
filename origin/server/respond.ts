// Queued sequences (one per choice, choices.ts) answered over HTTP: one JSON body, or an SSE stream.
// The stream starts only once choice 0 produced its first event, so a request that fails before any
// output (queue timeout, step failure) still gets a real status code (and retry-after): the
// dispatcher may retry it elsewhere because nothing was sent. After the first byte an error
// becomes an `error` frame, and the stream closes either way. With `n` > 1 the choices' frames
// interleave as they come, each with its `index`. A client that goes away cancels the sequences.
// With tools (`tools`: the syntax the model writes them in) a choice's text becomes content and
// `tool_calls` (protocol/tool-calls.ts), as on the Worker.
import { ApiError } from '../../protocol/errors';
import type { Choice, Frames, Shapes } from '../../protocol/frames';
import type { FinishReason, TokenLogprob } from '../../protocol/responses';
import { SSE_HEADERS, sseFrame } from '../../protocol/sse';
import { parseToolCalls, ToolCallStream, type ToolSyntax } from '../../protocol/tool-calls';
import type { Usage } from '../../protocol/usage';
import { EventQueue } from '../scheduler/event-queue';
import type { SequenceEvent } from '../scheduler/sequence';
import { usageOfChoices, type ChoiceEvents } from './choices';
import { ChoiceThink, withReasoning, type Piece } from './think';

/** Waits for every choice and returns the JSON body; throws the first error. */
export async function collect(
  choices: ChoiceEvents[],
  frames: Shapes,
  tools?: ToolSyntax,
  reasoning = false,
): Promise<object> {
  const done: Choice[] = [];
  const usages: Usage[] = [];
  const thinks: ChoiceThink[] = [];
  for (const { seq, next } of choices) {
    let text = '';
    const think = reasoning ? new ChoiceThink() : null;
    for (;;) {
      const ev = await next();
      if (ev.kind === 'text') {
        if (think) think.push(ev.text);
        else text += ev.text;
      } else if (ev.kind === 'error') throw ev.error;
      else {
        think?.end();
        done.push({
          ...toolChoice(think ? think.content : text, ev.finishReason, tools),
          ...(think ? { reasoning: think.reasoning } : {}),
          ...(seq.req.sampling.logprobs === undefined ? {} : { logprobs: seq.logprobs }),
        });
        if (think) thinks.push(think);
        usages.push(ev.usage);
        break;
      }
    }
  }
  const usage = usageOfChoices(usages);
  const completion = usages.map((u) => u.completion_tokens);
  return frames.body(done, reasoning ? withReasoning(usage, thinks, completion) : usage);
}

export interface StreamOptions {
  /** The syntax the model writes tool calls in: its text becomes content and `tool_calls`. */
  tools?: ToolSyntax;
  /** Least ms between writes after the first output (--stream-interval-ms; 0: a write as events come). */
  intervalMs?: number;
  /**
   * A client-ready stream (relay-ends.ts): its end — finish frames, an error frame, the usage chunk,
   * as SSE data — is held and handed here instead of written; on a cancel, the usage alone.
   */
  held?: (frames: string[]) => void;
  /** A reasoning chat: each choice's think block is sent as `reasoning_content` (think.ts). */
  reasoning?: boolean;
}

/**
 * Streams the choices as SSE; `cancel` is called when the client stops reading. The frames that are
 * ready together (a step's MTP tokens, `n` choices) go in one write; with `intervalMs` the writes
 * after the first output are that far apart at least, each holding the frames made meanwhile.
 */
export function stream(
  choices: ChoiceEvents[],
  frames: Frames,
  includeUsage: boolean,
  headers: Record<string, string>,
  cancel: () => void,
  { tools, intervalMs = 0, held, reasoning }: StreamOptions = {},
): Response {
  // Every choice's events in arrival order; each pump stops after its choice's last event. A pump
  // moves all that is queued at once, so that a step's events are in `merged` before the write.
  const merged = new EventQueue<{ index: number; ev: SequenceEvent }>();
  // Each choice's usage at its last event (a cancelled stream's held end).
  const finals = choices.map(
    (c, index) =>
      new Promise<Usage>((resolve) => {
        void (async () => {
          for (;;) {
            for (let ev: SequenceEvent | undefined = await c.next(); ev; ev = c.poll()) {
              merged.push({ index, ev });
              if (ev.kind !== 'text') return resolve(ev.usage);
            }
          }
        })();
      }),
  );
  // A client-ready stream's end, as SSE data: written by the Worker.
  const end: string[] = [];
  const hold = (frame: object) => (end.push(JSON.stringify(frame)), [] as string[]);
  const opened = new Set<number>();
  const usages: Usage[] = [];
  const calls = choices.map(() =>
    tools && frames.toolCall ? new ToolCallStream(tools) : undefined,
  );
  const thinks = choices.map(() => (reasoning && frames.reasoning ? new ChoiceThink() : undefined));
  /** A piece of a split choice: its reasoning frame, or its content as a plain choice's text. */
  const pieceFrames = (p: Piece, index: number): string[] => {
    if (p.reasoning) return [sseFrame(frames.reasoning!(p.reasoning, index, p.logprobs))];
    return textFrames(p.content!, p.logprobs, index);
  };
  const textFrames = (text: string, logprobs: TokenLogprob[] | undefined, index: number) => {
    const c = calls[index];
    if (c) return callFrames(c.push(text), frames, index);
    return [sseFrame(frames.delta(text, logprobs, index))];
  };
  let ended = false;
  const framesOf = (index: number, ev: SequenceEvent): string[] => {
    const out = opened.has(index) ? [] : frames.opening(index).map((f) => sseFrame(f));
    opened.add(index);
    const c = calls[index];
    const t = thinks[index];
    if (ev.kind === 'text' && t)
      return [...out, ...t.push(ev.text, ev.logprobs).flatMap((p) => pieceFrames(p, index))];
    if (ev.kind === 'text') return [...out, ...textFrames(ev.text, ev.logprobs, index)];
    if (ev.kind === 'error') {
      ended = true;
      const error =
        ev.error instanceof ApiError
          ? ev.error
          : new ApiError(500, 'Generation failed.', 'server_error');
      if (!held) return [...out, sseFrame(error.toJSON())];
      // the usage first: the Worker bills what was generated, then reads the error
      hold(frames.usage(ev.usage));
      return [...out, ...hold(error.toJSON())];
    }
    if (t) out.push(...t.end().flatMap((p) => pieceFrames(p, index)));
    if (c) out.push(...callFrames(c.flush(), frames, index));
    // a choice that made calls and ended on its own ends with `tool_calls`, as OpenAI's
    const reason: FinishReason =
      c?.calls.length && ev.finishReason === 'stop' ? 'tool_calls' : ev.finishReason;
    const finish = frames.finish(reason, undefined, index);
    if (held) hold(finish);
    else out.push(sseFrame(finish));
    usages[index] = ev.usage;
    if (usages.filter(Boolean).length < choices.length) return out;
    ended = true;
    const usage = thinks.every(Boolean)
      ? withReasoning(
          usageOfChoices(usages),
          thinks as ChoiceThink[],
          usages.map((u) => u.completion_tokens),
        )
      : usageOfChoices(usages);
    if (held) hold(frames.usage(usage));
    else {
      if (includeUsage) out.push(sseFrame(frames.usage(usage)));
      out.push(sseFrame('[DONE]'));
    }
    return out;
  };
  const encoder = new TextEncoder();
  let lastWrite = -1; // performance.now() of the last write; -1 before the first output
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let out = '';
      while (!out && !ended) {
        const { index, ev } = await merged.next();
        out = framesOf(index, ev).join('');
      }
      // never the first output: that goes at once
      const wait = lastWrite < 0 || ended ? 0 : lastWrite + intervalMs - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (cancelled) return;
      while (!ended) {
        const item = merged.poll();
        if (!item) break;
        out += framesOf(item.index, item.ev).join('');
      }
      if (out) controller.enqueue(encoder.encode(out));
      lastWrite = performance.now();
      if (ended) {
        controller.close();
        held?.(end);
        if (usages.filter(Boolean).length < choices.length) cancel(); // an error ends the other choices too
      }
    },
    cancel() {
      cancelled = true;
      cancel();
      // What was generated before the client left: the usage, once every choice has stopped.
      if (held && !ended)
        void Promise.all(finals).then((us) =>
          held([JSON.stringify(frames.usage(usageOfChoices(us)))]),
        );
    },
  });
  return new Response(body, { headers: { ...SSE_HEADERS, ...headers } });
}

/** A finished choice's text, with tools split into content and calls (`finish_reason: "tool_calls"`). */
function toolChoice(text: string, finishReason: FinishReason, tools?: ToolSyntax): Choice {
  if (!tools) return { text, finishReason };
  const { content, calls } = parseToolCalls(text, tools, finishReason === 'length');
  const called = calls.length > 0;
  return {
    text: content ?? '',
    finishReason: called && finishReason === 'stop' ? 'tool_calls' : finishReason,
    ...(called ? { toolCalls: calls } : {}),
  };
}

/** A tool-calling stream's content and tool-call deltas (protocol/tool-calls.ts). */
function callFrames(
  events: ReturnType<ToolCallStream['push']>,
  frames: Frames,
  index: number,
): string[] {
  return events.map((e) =>
    sseFrame(
      'content' in e
        ? frames.delta(e.content, undefined, index)
        : frames.toolCall!(e.toolCall, index),
    ),
  );
}
