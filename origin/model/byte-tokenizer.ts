// The origin's tokenizer contract, and its fallback for checkpoints without a tokenizer.json
// (origin/model/tokenizer.ts reads the real one). The fallback is byte-level, the ByT5 layout: ids 0, 1,
// 2 are special (DeepSeek's config has BOS 0 and EOS 1), id 3 + b is byte b of the UTF-8 text, and ids
// past 258 — which a random model may still sample — decode to byte (id - 3) mod 256. The config's
// bos/eos ids, wherever they are, decode to nothing.
import type { ChatTemplate } from '../../engine/tokenizers/chat-template';

export interface OriginTokenizer {
  /** What /v1/models and /health report: 'hf' (the checkpoint's tokenizer.json) or 'byte-fallback'. */
  readonly name: 'hf' | 'byte-fallback';
  /** One line for the startup summary: which tokenizer, from where. */
  readonly description: string;
  readonly bosId: number | null;
  readonly eosId: number | null;
  /** The checkpoint's chat template; null: the plain template (engine/chat-template.ts). */
  readonly chatTemplate: ChatTemplate | null;
  /** Token ids of text; BOS first when the model has one and `bos` is not false (a chat template writes its own). */
  encode(text: string, opts?: { bos?: boolean }): number[];
  /** encode()'s ids; a long text may be encoded in slices with event-loop turns between (sliced-encode.ts). */
  encodeAsync(text: string, opts?: { bos?: boolean }): Promise<number[]>;
  /** The bytes one token stands for (possibly part of a UTF-8 character). */
  decode(id: number): Uint8Array;
}

const OFFSET = 3;
const EMPTY = new Uint8Array(0);

export class ByteTokenizer implements OriginTokenizer {
  readonly name = 'byte-fallback';
  readonly description = 'byte-fallback (no tokenizer.json: one token per UTF-8 byte)';
  readonly chatTemplate = null;
  private readonly bytes: Uint8Array[];

  constructor(
    readonly vocabSize: number,
    readonly bosId: number | null,
    readonly eosId: number | null,
  ) {
    if (vocabSize < OFFSET + 256)
      throw new RangeError(
        `the byte-level fallback tokenizer needs a vocabulary of at least ${OFFSET + 256} ids, this model has ${vocabSize}`,
      );
    this.bytes = Array.from({ length: vocabSize }, (_, id) =>
      id < OFFSET || id === bosId || id === eosId ? EMPTY : Uint8Array.of((id - OFFSET) % 256),
    );
  }

  encode(text: string, opts: { bos?: boolean } = {}): number[] {
    const ids = this.bosId === null || opts.bos === false ? [] : [this.bosId];
    for (const b of new TextEncoder().encode(text)) ids.push(OFFSET + b);
    return ids;
  }

  /** A byte per token: no work worth slicing. */
  async encodeAsync(text: string, opts: { bos?: boolean } = {}): Promise<number[]> {
    return this.encode(text, opts);
  }

  decode(id: number): Uint8Array {
    return this.bytes[id] ?? EMPTY;
  }
}
