// Room: engine/deepseek. The MTP draft's own vocabulary (FR-Spec, Zhao et al. 2025: a frequency-ranked
// shortlist): a model directory's draft_vocab.json lists the token ids the draft's head scores (the most
// frequent tokens of the training corpus, tools/train/draft-vocab.ts); the draft's logits are -Infinity
// for every other id. The head (vocab × hidden) is most of a small model's draft, and a weak drafter's
// right guesses are frequent tokens: on models/pystd-mla-moe the 2,048 most frequent of 20,755 ids keep
// every accepted draft (bench/mtp-cost.ts prices the head). Speculation stays exact: a greedy draft
// stands only if it is the main model's argmax, and sampling's rejection rule uses the distribution the
// draft was drawn from (zero outside the list).
import type { KernelBackend } from '../../kernels-wasm/types';
import type { WasmLinear } from './wasm-linear';
import { DeepSeekLoadError } from './weights';

export const DRAFT_VOCAB_FILE = 'draft_vocab.json';

export interface DraftVocab {
  /** The ids the draft's head scores, in the order of head's rows. */
  ids: Int32Array;
  /** The main head's rows of those ids [ids.length, hidden], in the head's format. */
  head: WasmLinear;
  /** Their logits [maxRows, ids.length]. */
  out: number;
}

/** The ids of a draft_vocab.json ({ "ids": [...] }): distinct token ids of the model's vocabulary. */
export function parseDraftVocab(bytes: Uint8Array, vocabSize: number): Int32Array {
  let ids: unknown;
  try {
    ids = (JSON.parse(new TextDecoder().decode(bytes)) as { ids?: unknown }).ids;
  } catch (err) {
    throw new DeepSeekLoadError(`${DRAFT_VOCAB_FILE} is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(ids) || ids.length === 0)
    throw new DeepSeekLoadError(`${DRAFT_VOCAB_FILE}: "ids" must be a non-empty array`);
  const seen = new Set<number>();
  for (const id of ids) {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize || seen.has(id as number))
      throw new DeepSeekLoadError(
        `${DRAFT_VOCAB_FILE}: ${JSON.stringify(id)} is not a new token id of 0..${vocabSize - 1}`,
      );
    seen.add(id as number);
  }
  return Int32Array.from(ids as number[]);
}

/**
 * Copies the head's rows of `ids` into WASM memory (in the head's own format, f32 or BF16), with room for
 * maxRows of logits. An FP8 head is refused rather than served untested (V3 ships lm_head in BF16).
 */
export function placeDraftVocab(
  mem: KernelBackend,
  head: WasmLinear,
  ids: Int32Array,
  maxRows: number,
): DraftVocab {
  if (head.kind === 'fp8')
    throw new DeepSeekLoadError(`${DRAFT_VOCAB_FILE} needs a BF16 or F32 lm_head, not FP8`);
  const h = head.cols,
    n = ids.length,
    bytes = head.kind === 'bf16' ? 2 : 4; // per weight
  const w = mem.alloc(Math.ceil((n * h * bytes) / 4)),
    out = mem.alloc(maxRows * n);
  const dst = mem.bytes!(w, n * h * bytes);
  const all = mem.bytes!(head.w, head.rows * h * bytes);
  const row = h * bytes;
  ids.forEach((id, j) => dst.set(all.subarray(id * row, (id + 1) * row), j * row));
  return { ids, head: { kind: head.kind, rows: n, cols: h, w }, out };
}

/** Spreads the draft's logits of row i over a vocabulary-wide row: -Infinity off the list. */
export function spreadDraftLogits(
  d: DraftVocab,
  heap: Float32Array,
  i: number,
  row: Float32Array,
): void {
  const n = d.ids.length,
    at = (d.out >> 2) + i * n;
  row.fill(-Infinity);
  for (let j = 0; j < n; j++) row[d.ids[j]] = heap[at + j];
}
