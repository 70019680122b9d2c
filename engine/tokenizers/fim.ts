// Fill in the middle: a code model's FIM tokens, found in its tokenizer, and the FIM prompt they
// make (prefix-suffix-middle order, as each of these models was trained). A model whose tokenizer
// has none of these sets cannot take a `suffix`.

/** The three tokens of a FIM prompt, by role: before the prompt, before the suffix, where the gap is filled. */
export interface FimTokens {
  prefix: string;
  suffix: string;
  middle: string;
}

/** Known sets, most specific first. */
const KNOWN: readonly FimTokens[] = [
  // DeepSeek-V3 and DeepSeek-Coder
  { prefix: '<｜fim▁begin｜>', suffix: '<｜fim▁hole｜>', middle: '<｜fim▁end｜>' },
  // Qwen2.5-Coder
  { prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>' },
  // StarCoder, StarCoder2
  { prefix: '<fim_prefix>', suffix: '<fim_suffix>', middle: '<fim_middle>' },
  // CodeLlama (SentencePiece pieces: the marker carries its leading space)
  { prefix: '▁<PRE>', suffix: '▁<SUF>', middle: '▁<MID>' },
];

/** What FIM needs of a tokenizer: the edge's TextTokenizer and the origin's both fit. */
export interface FimTokenizer {
  readonly bosId?: number | null;
  encode(text: string, opts?: { bos?: boolean; eos?: boolean }): number[];
}

/** A token text the tokenizer knows as one token (an added token), not spelled out in pieces. */
function isOneToken(tokenizer: FimTokenizer, text: string): boolean {
  const ids = tokenizer.encode(text, { bos: false, eos: false });
  return ids.filter((id) => id !== tokenizer.bosId).length === 1;
}

/** The model's FIM tokens, or null when its tokenizer has no known set. */
export function findFimTokens(tokenizer: FimTokenizer): FimTokens | null {
  return (
    KNOWN.find((set) =>
      [set.prefix, set.suffix, set.middle].every((t) => isOneToken(tokenizer, t)),
    ) ?? null
  );
}

/** The FIM prompt for the text before the gap and after it. */
export function renderFim(tokens: FimTokens, prefix: string, suffix: string): string {
  return `${tokens.prefix}${prefix}${tokens.suffix}${suffix}${tokens.middle}`;
}
