// A long prompt tokenized a slice at a time, the event loop given a turn between slices: BPE over a
// 1K-token prompt is one synchronous call of 4-8 ms (more on a loaded core), a gap that every stream a
// decode origin is decoding sees (bench/pd.ts). The text is cut only right after a newline that a
// non-space character follows. The pre-tokenizers in newline-cut-pre-tokenizers.json (DeepSeek-V3's)
// never put such a newline and the character after it in one piece (a newline ends its piece: `\s*[\r\n]+`
// stops at the run's last newline, `[^\r\n…]` keeps it out of a word), so the ids are the whole text's;
// a tokenizer with any other pre-tokenizer, a normalizer, or an added token holding a newline is
// encoded whole.
import { yieldToEventLoop } from '../../engine/pacer';
import NEWLINE_CUT_PRE_TOKENIZERS from './newline-cut-pre-tokenizers.json';

/** Characters per slice, about: ~300 tokens of code, ~1 ms of BPE. */
export const SLICE_CHARS = 1024;

/** Whether a tokenizer.json's pieces never span a newline and a non-space character after it. */
export function cutsAtNewlines(json: Record<string, unknown>): boolean {
  const normalizer = json.normalizer as { type?: string; normalizers?: unknown[] } | null;
  const noNormalizer =
    !normalizer || (normalizer.type === 'Sequence' && normalizer.normalizers?.length === 0);
  const added = (json.added_tokens ?? []) as { content: string }[];
  const pre = JSON.stringify(json.pre_tokenizer);
  return (
    noNormalizer &&
    added.every((t) => !t.content.includes('\n')) &&
    NEWLINE_CUT_PRE_TOKENIZERS.some((p) => JSON.stringify(p) === pre)
  );
}

/** The text in slices of about `size` characters; each but the last ends with a newline a non-space follows. */
export function sliceText(text: string, size = SLICE_CHARS): string[] {
  const out: string[] = [];
  const cut = /\n(?=[^\s\u0085])/g; // U+0085 is Unicode White_Space, not JS \s
  let from = 0;
  while (text.length - from > size) {
    cut.lastIndex = from + size;
    const m = cut.exec(text);
    if (!m) break;
    out.push(text.slice(from, m.index + 1));
    from = m.index + 1;
  }
  out.push(text.slice(from));
  return out;
}

/** encode() over the slices, a turn between them; BOS (when asked) only before the first. */
export async function encodeSliced(
  encode: (text: string, bos: boolean) => number[],
  text: string,
  bos: boolean,
): Promise<number[]> {
  const ids: number[] = [];
  for (const [i, slice] of sliceText(text).entries()) {
    if (i > 0) await yieldToEventLoop();
    for (const id of encode(slice, bos && i === 0)) ids.push(id);
  }
  return ids;
}
