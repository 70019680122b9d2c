// What the engine needs of a tokenizer, whatever its file: llama2.c's tokenizer.bin or HF's tokenizer.json.

export interface EncodeOptions {
  /** Prepend BOS (when the tokenizer has one). Default true. */
  bos?: boolean;
  eos?: boolean;
}

export interface TextTokenizer {
  readonly vocabSize: number;
  /** The BOS id, or null when the tokenizer has none (Qwen). */
  readonly bosId: number | null;
  /** Ids that end a generation: EOS, end-of-turn tokens. */
  readonly stopIds: readonly number[];
  encode(text: string, opts?: EncodeOptions): number[];
  /**
   * The bytes `next` adds to the text when it follows `prev` (a view: do not modify it). Bytes, not
   * a string: a token may hold part of a UTF-8 character. Special tokens decode to nothing.
   */
  decodePiece(prev: number, next: number): Uint8Array;
}
