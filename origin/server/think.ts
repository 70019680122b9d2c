// A reasoning generation's think block split on the origin, as DeepSeek answers it: the block as
// `reasoning_content`, the rest as `content`, its tokens in `completion_tokens_details`. The Worker
// splits raw text itself (dispatch/think-frames.ts) for origins that cannot, but a stream it must
// split it must also read; one split here can be piped on unread (relay-ends.ts).
import { ThinkSplitter } from '../../protocol/reasoning';
import type { TokenLogprob } from '../../protocol/responses';
import type { Usage } from '../../protocol/usage';

/** What one event's text becomes: a reasoning piece, a content piece, or both in that order. */
export interface Piece {
  reasoning?: string;
  content?: string;
  /** The entries of the tokens behind it: on the first piece made from them, once. */
  logprobs?: TokenLogprob[];
}

/** One choice's split. Each text event is one token (or a few whose bytes made one character). */
export class ChoiceThink {
  private readonly splitter = new ThinkSplitter();
  /** Entries of events that made no piece yet (a tag still undecided): for the next piece. */
  private held: TokenLogprob[] = [];

  push(text: string, logprobs?: TokenLogprob[]): Piece[] {
    return this.pieces(this.splitter.push(text), logprobs);
  }

  /** The generation ended: what was held back is text after all. */
  end(): Piece[] {
    return this.pieces(this.splitter.end());
  }

  get reasoning(): string {
    return this.splitter.reasoning;
  }

  get content(): string {
    return this.splitter.content;
  }

  /** Tokens inside the think block: all of them when it never closed. */
  reasoningTokens(completionTokens: number): number {
    return this.splitter.thinking ? completionTokens : this.splitter.reasoningTokens;
  }

  private pieces(split: { reasoning: string; content: string }, logprobs?: TokenLogprob[]) {
    if (logprobs) this.held.push(...logprobs);
    const out: Piece[] = [];
    if (split.reasoning) out.push({ reasoning: split.reasoning });
    if (split.content) out.push({ content: split.content });
    if (out.length && this.held.length) {
      out[0].logprobs = this.held;
      this.held = [];
    }
    return out;
  }
}

/** Usage with the reasoning tokens of every choice (each choice's own completion tokens given). */
export function withReasoning(usage: Usage, thinks: ChoiceThink[], completion: number[]): Usage {
  const tokens = thinks.reduce((sum, t, i) => sum + t.reasoningTokens(completion[i]), 0);
  return { ...usage, completion_tokens_details: { reasoning_tokens: tokens } };
}
