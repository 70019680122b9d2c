// Log-probabilities on the wire: the engine reports token ids and numbers; clients get each token's
// text and bytes (chat's `logprobs.content`) or the legacy completions arrays. Stop tokens are not
// content and get no entry, as with OpenAI.
import type { GeneratedToken, TextTokenizer } from '../engine/index';
import type { CompletionLogprobs, TokenLogprob, TopLogprob } from '../protocol/responses';

const decoder = new TextDecoder();

/** Turns each generated token into a logprob entry; `take()` hands over those not yet sent. */
export class LogprobCollector {
  private prev: number;
  private pending: TokenLogprob[] = [];
  readonly all: TokenLogprob[] = [];

  constructor(
    private readonly tokenizer: TextTokenizer,
    promptIds: number[],
  ) {
    this.prev = promptIds[promptIds.length - 1];
  }

  push(token: GeneratedToken): void {
    const prev = this.prev;
    this.prev = token.id;
    if (!token.logprobs || this.tokenizer.stopIds.includes(token.id)) return;
    const entry = (id: number, logprob: number): TopLogprob => {
      const bytes = this.tokenizer.decodePiece(prev, id);
      return { token: decoder.decode(bytes), logprob, bytes: Array.from(bytes) };
    };
    const e: TokenLogprob = {
      ...entry(token.id, token.logprobs.logprob),
      top_logprobs: token.logprobs.top.map((t) => entry(t.id, t.logprob)),
    };
    this.pending.push(e);
    this.all.push(e);
  }

  take(): TokenLogprob[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }
}

/** The legacy completions shape; offsets count from `start` (the echoed prompt's length). */
export function completionLogprobs(entries: TokenLogprob[], start = 0): CompletionLogprobs {
  let offset = start;
  const textOffset = entries.map((e) => {
    const at = offset;
    offset += e.token.length;
    return at;
  });
  return {
    tokens: entries.map((e) => e.token),
    token_logprobs: entries.map((e) => e.logprob),
    top_logprobs: entries.map((e) =>
      Object.fromEntries(e.top_logprobs.map((t) => [t.token, t.logprob])),
    ),
    text_offset: textOffset,
  };
}
