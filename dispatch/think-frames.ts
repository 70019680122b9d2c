// A reasoning model's think block in the relay: an origin that sends it as raw `<think>` text has
// each choice's text split into `reasoning_content` and `content` (protocol/reasoning.ts), one frame
// becoming a reasoning frame, then a content frame, then its finish. An origin that sends
// `reasoning_content` itself (vLLM, SGLang with a reasoning parser) switches the splitting off and
// passes through. Reasoning tokens are counted into usage when the origin reports none. One walk
// per relayed stream or collected answer (stream-walk.ts, collect.ts).
import { ThinkSplitter } from '../protocol/reasoning';
import type { Usage } from '../protocol/usage';
import type { ChunkChoice } from './assemble';
import type { Frame } from './relay-types';

export class ThinkFrames {
  /** One splitter per choice index while splitting is on; null once off (or never on). */
  private splitters: Map<number, ThinkSplitter> | null;
  /** Frames of `reasoning_content` the origin sent itself: its reasoning tokens, when it reports none. */
  private reasoningFrames = 0;
  /** Per choice, the logprob entries of frames held back whole (a tag cut mid-way): for its next frame. */
  private heldLogprobs = new Map<number, unknown[]>();

  constructor(reasoning: boolean | undefined) {
    this.splitters = reasoning ? new Map() : null;
  }

  /** True while raw text is split: every frame must be parsed (no pass-through fast path). */
  get splitting(): boolean {
    return this.splitters !== null;
  }

  /** Counts a passed-through frame (not parsed) that carries `reasoning_content`. */
  noteRaw(data: string): void {
    const at = data.indexOf('"reasoning_content":"');
    if (at >= 0 && data.charCodeAt(at + 21) !== 34) this.reasoningFrames++;
  }

  /** The frames to take in place of this one: itself, or its text split by the think block. */
  split(frame: Frame): Frame[] {
    const choices = frame.choices ?? [];
    if (choices.some((c) => c.delta?.reasoning_content)) {
      this.splitters = null;
      this.reasoningFrames++;
      return [frame];
    }
    const splitters = this.splitters;
    if (!splitters || !choices.some((c) => c.delta?.content || c.finish_reason)) return [frame];
    const out: Frame[] = [];
    for (const c of choices) {
      if (!c.delta?.content && !c.finish_reason) {
        out.push({ ...frame, choices: [c] });
        continue;
      }
      const i = typeof c.index === 'number' ? c.index : 0;
      let s = splitters.get(i);
      if (!s) splitters.set(i, (s = new ThinkSplitter()));
      // the frame's logprob entries (and any held back) ride on the first frame made from it, once
      const entries = [...(this.heldLogprobs.get(i) ?? []), ...(c.logprobs?.content ?? [])];
      this.heldLogprobs.delete(i);
      let logprobs = entries.length ? { ...c.logprobs, content: entries } : c.logprobs;
      const piece = (delta: ChunkChoice['delta'], finish: string | null = null) => {
        out.push({ ...frame, choices: [{ ...c, delta, finish_reason: finish, logprobs }] });
        if (entries.length) logprobs = null;
      };
      const split = s.push(c.delta?.content ?? '');
      if (c.finish_reason) {
        const rest = s.end();
        split.reasoning += rest.reasoning;
        split.content += rest.content;
      }
      if (split.reasoning) piece({ content: null, reasoning_content: split.reasoning });
      if (split.content) piece({ content: split.content });
      if (c.finish_reason) piece({}, c.finish_reason);
      if (entries.length && logprobs !== null) this.heldLogprobs.set(i, entries);
    }
    return out;
  }

  /** Reasoning tokens into usage when the origin gave no completion details. */
  count(usage: Usage): Usage {
    if (usage.completion_tokens_details) return usage;
    const split = [...(this.splitters?.values() ?? [])];
    // Pieces are tokens for a splitting origin; a think block never closed is every token.
    const tokens =
      split.length && split.every((s) => s.thinking)
        ? usage.completion_tokens
        : split.reduce((sum, s) => sum + s.reasoningTokens, 0) + this.reasoningFrames;
    if (tokens) usage.completion_tokens_details = { reasoning_tokens: tokens };
    return usage;
  }
}
