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

/**
 * The echoed prompt's legacy logprobs (OpenAI's echo with logprobs): each prompt token, its
 * log-probability after those before it (`scores`, null for the first) and the most likely
 * alternatives. BOS and stop tokens are not text: they get no entry, so the tokens spell the echo.
 */
export function echoLogprobs(
  tokenizer: PieceDecoder & { readonly bosId: number | null },
  promptIds: readonly number[],
  scores: readonly (SampledToken['logprobs'] | null)[],
): CompletionLogprobs {
  const out = { tokens: [] as string[], token_logprobs: [] as (number | null)[] };
  const top: (Record<string, number> | null)[] = [];
  const textOffset: number[] = [];
  let offset = 0;
  promptIds.forEach((id, i) => {
    if (id === tokenizer.bosId || tokenizer.stopIds.includes(id)) return;
    const prev = i ? promptIds[i - 1] : -1;
    const token = decoder.decode(tokenizer.decodePiece(prev, id));
    const score = scores[i] ?? null;
    out.tokens.push(token);
    out.token_logprobs.push(score?.logprob ?? null);
    top.push(
      score
        ? Object.fromEntries(
            score.top.map((t) => [decoder.decode(tokenizer.decodePiece(prev, t.id)), t.logprob]),
          )
        : null,
    );
    textOffset.push(offset);
    offset += token.length;
  });
  return { ...out, top_logprobs: top, text_offset: textOffset };
}

/** The echo's logprobs followed by the completion's (whose offsets already count from the echo). */
export const joinLogprobs = (
  echo: CompletionLogprobs,
  completion: CompletionLogprobs,
): CompletionLogprobs => ({
  tokens: [...echo.tokens, ...completion.tokens],
  token_logprobs: [...echo.token_logprobs, ...completion.token_logprobs],
  top_logprobs: [...(echo.top_logprobs ?? []), ...(completion.top_logprobs ?? [])],
  text_offset: [...echo.text_offset, ...completion.text_offset],
});
