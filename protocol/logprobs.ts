// Log-probabilities on the wire, for the Worker (routes/) and the origin (origin/server/): an engine
// reports token ids and numbers; clients get each token's text and bytes (chat's `logprobs.content`)
// or the legacy completions arrays. Stop tokens are not content and get no entry, as with OpenAI.
import type { CompletionLogprobs, TokenLogprob, TopLogprob } from './responses';

const decoder = new TextDecoder();

/** What the collector needs of a tokenizer (engine's TextTokenizer has it): a token's bytes after its predecessor, and the ids that stop. */
export interface PieceDecoder {
  readonly stopIds: readonly number[];
  decodePiece(prev: number, id: number): Uint8Array;
}

/** A generated token as an engine reports it (engine's GeneratedToken). */
export interface SampledToken {
  id: number;
  logprobs?: { logprob: number; top: { id: number; logprob: number }[] };
}

/** Turns each generated token into a logprob entry; `take()` hands over those not yet sent. */
export class LogprobCollector {
  private prev: number;
  private pending: TokenLogprob[] = [];
  readonly all: TokenLogprob[] = [];

  constructor(
    private readonly tokenizer: PieceDecoder,
    promptIds: number[],
  ) {
    this.prev = promptIds[promptIds.length - 1];
  }

  push(token: SampledToken): void {
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
