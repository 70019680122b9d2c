// DeepSeek's reasoning output: a reasoning model's answer opens with a think block
// (`<think>…</think>`) that the API returns as `reasoning_content`, the rest as `content`. One
// streaming splitter serves the edge generation (routes/generation.ts) and the relay of an origin
// that sends raw text (dispatch/relay.ts). A tag may arrive split across tokens, so a possible
// tag's beginning is held back until the next piece says what it is.

export const THINK_OPEN = '<think>';
export const THINK_CLOSE = '</think>';

/** Whether a generation reasons: DeepSeek's `thinking: {type}` switch wins over the model's flag. */
export function reasoningOn(flag: boolean, thinking: unknown): boolean {
  const type = (thinking as { type?: unknown } | null | undefined)?.type;
  if (type === 'enabled') return true;
  if (type === 'disabled') return false;
  return flag;
}

/**
 * Whether a chat request is DeepSeek's prefix completion (`prefix: true` on its last message): it
 * continues the answer itself, so it never opens a think block, whatever the model or `thinking`.
 */
export function continuesPrefix(messages: unknown): boolean {
  const last = Array.isArray(messages) ? (messages.at(-1) as { prefix?: unknown } | null) : null;
  return last?.prefix === true;
}

/** What one piece of generated text adds to each part. */
export interface Split {
  reasoning: string;
  content: string;
}

/** The longest end of `text` that could begin `tag` (held back: the next piece may complete it). */
function partialTagAt(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--)
    if (tag.startsWith(text.slice(text.length - n))) return n;
  return 0;
}

/**
 * Splits one choice's text as it streams. A reasoning generation starts inside the think block
 * (the template may have opened it in the prompt, as DeepSeek-R1's does; a leading `<think>` the
 * model writes itself is dropped); `</think>` ends it, and the blank lines after it are dropped.
 * A model that never closes the block has only reasoning, as DeepSeek's would.
 */
export class ThinkSplitter {
  private state: 'start' | 'think' | 'after' | 'content' = 'start';
  private held = '';
  reasoning = '';
  content = '';
  /** Pieces pushed while inside the think block (the closing tag's included): the reasoning tokens. */
  reasoningTokens = 0;

  /** True while the text still belongs to the think block. */
  get thinking(): boolean {
    return this.state === 'start' || this.state === 'think';
  }

  /** One generated piece (a token's text); returns what it adds to each part. */
  push(piece: string): Split {
    if (this.thinking) this.reasoningTokens++;
    const out = this.take(this.held + piece);
    this.reasoning += out.reasoning;
    this.content += out.content;
    return out;
  }

  /** The generation ended: whatever was held back is text after all. */
  end(): Split {
    const rest = this.held;
    this.held = '';
    const out = this.thinking
      ? { reasoning: this.state === 'start' ? rest.trimStart() : rest, content: '' }
      : { reasoning: '', content: this.state === 'after' ? '' : rest };
    this.reasoning += out.reasoning;
    this.content += out.content;
    return out;
  }

  private take(text: string): Split {
    this.held = '';
    if (this.state === 'start') {
      const lead = text.trimStart();
      if (lead.length < THINK_OPEN.length && THINK_OPEN.startsWith(lead)) {
        this.held = text;
        return { reasoning: '', content: '' };
      }
      this.state = 'think';
      text = lead.startsWith(THINK_OPEN) ? lead.slice(THINK_OPEN.length) : text;
    }
    if (this.state === 'think') {
      const close = text.indexOf(THINK_CLOSE);
      if (close < 0) {
        const keep = partialTagAt(text, THINK_CLOSE);
        this.held = text.slice(text.length - keep);
        return { reasoning: text.slice(0, text.length - keep), content: '' };
      }
      this.state = 'after';
      const after = this.take(text.slice(close + THINK_CLOSE.length));
      return { reasoning: text.slice(0, close), content: after.content };
    }
    if (this.state === 'after') {
      text = text.trimStart();
      if (text === '') return { reasoning: '', content: '' };
      this.state = 'content';
    }
    return { reasoning: '', content: text };
  }
}

/** One choice's text as it is generated: plain, or split into reasoning and content. */
export class ChoiceText {
  readonly split: ThinkSplitter | null;
  private plain = '';
  constructor(think: boolean | undefined) {
    this.split = think ? new ThinkSplitter() : null;
  }
  push(piece: string): { reasoning: string; content: string } {
    if (this.split) return this.split.push(piece);
    this.plain += piece;
    return { reasoning: '', content: piece };
  }
  end(): { reasoning: string; content: string } {
    return this.split?.end() ?? { reasoning: '', content: '' };
  }
  /** The finished choice's text fields. */
  fields(): { text: string; reasoning?: string } {
    return this.split
      ? { text: this.split.content, reasoning: this.split.reasoning }
      : { text: this.plain };
  }
}
