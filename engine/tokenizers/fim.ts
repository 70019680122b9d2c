// Fill-in-the-middle: a code model's FIM tokens, found in its vocabulary, and the prompt they make.
// Every family here is trained on prefix-suffix-middle (PSM) order: marker, prefix, marker, suffix,
// marker, and the model writes the middle. Only the marker texts differ, and CodeLlama's spacing.

export type FimFamily = 'deepseek' | 'qwen' | 'starcoder' | 'codellama';

export interface FimMarker {
  text: string;
  id: number;
}

export interface FimTokens {
  family: FimFamily;
  /** Before the prefix. */
  prefix: FimMarker;
  /** Before the suffix (DeepSeek calls it the hole: where the middle goes). */
  suffix: FimMarker;
  /** After the suffix: the model continues with the middle. */
  middle: FimMarker;
}

/** What FIM needs of a tokenizer (HfTokenizer has it). */
export interface FimTokenizer {
  tokenId(text: string): number | null;
  encode(text: string, opts?: { bos?: boolean }): number[];
}

const FAMILIES: { family: FimFamily; prefix: string; suffix: string; middle: string }[] = [
  // DeepSeek-Coder, -V2, -V3: <｜fim▁begin｜>prefix<｜fim▁hole｜>suffix<｜fim▁end｜>
  {
    family: 'deepseek',
    prefix: '<｜fim▁begin｜>',
    suffix: '<｜fim▁hole｜>',
    middle: '<｜fim▁end｜>',
  },
  { family: 'qwen', prefix: '<|fim_prefix|>', suffix: '<|fim_suffix|>', middle: '<|fim_middle|>' },
  { family: 'starcoder', prefix: '<fim_prefix>', suffix: '<fim_suffix>', middle: '<fim_middle>' },
  // SentencePiece pieces: '▁' is the space the prompt "<PRE> {prefix} <SUF>{suffix} <MID>" has
  { family: 'codellama', prefix: '▁<PRE>', suffix: '▁<SUF>', middle: '▁<MID>' },
];

/** The model's FIM tokens, or null when its vocabulary has no complete set. */
export function findFimTokens(tok: Pick<FimTokenizer, 'tokenId'>): FimTokens | null {
  for (const f of FAMILIES) {
    const [prefix, suffix, middle] = [f.prefix, f.suffix, f.middle].map((text) => {
      const id = tok.tokenId(text);
      return id === null ? null : { text, id };
    });
    if (prefix && suffix && middle) return { family: f.family, prefix, suffix, middle };
  }
  return null;
}

/**
 * The prompt's ids: what the tokenizer puts first (BOS, where it adds one), then PSM with the markers
 * as their ids. CodeLlama's suffix is encoded without SentencePiece's leading space, as Meta's
 * infilling code does (encode_infilling).
 */
export function fimPromptIds(
  tok: FimTokenizer,
  fim: FimTokens,
  prefix: string,
  suffix: string,
): number[] {
  const text = (s: string) => (s === '' ? [] : tok.encode(s, { bos: false }));
  const suffixIds = fim.family === 'codellama' ? withoutLeadingSpace(tok, suffix) : text(suffix);
  return [
    ...tok.encode('', { bos: true }),
    fim.prefix.id,
    ...text(prefix),
    fim.suffix.id,
    ...suffixIds,
    fim.middle.id,
  ];
}

/**
 * The prompt as text, for families whose markers are added tokens (split out of text before
 * encoding): encoding it with BOS gives fimPromptIds' ids. Null for CodeLlama, whose markers are
 * SentencePiece pieces: use the ids.
 */
export function fimPromptText(fim: FimTokens, prefix: string, suffix: string): string | null {
  if (fim.family === 'codellama') return null;
  return `${fim.prefix.text}${prefix}${fim.suffix.text}${suffix}${fim.middle.text}`;
}

/** Meta's trick: encode '☺' + text and drop the pieces '☺' alone encodes to ('▁', '☺'). */
function withoutLeadingSpace(tok: FimTokenizer, text: string): number[] {
  if (text === '') return [];
  const marker = tok.encode('☺', { bos: false });
  const ids = tok.encode(`☺${text}`, { bos: false });
  const starts = marker.every((id, i) => ids[i] === id);
  return starts ? ids.slice(marker.length) : tok.encode(text, { bos: false });
}
