// The DeepSeek-V3 model on the WASM kernels: the same checkpoint files as loadDeepSeekModel, FP8 projections
// kept in FP8 in WASM memory (or dequantized at load), f32 activations. One step runs the next tokens of
// several sequences at once, each in its own slot (its own latent cache): every projection reads its
// weights once for all of them, each routed expert runs once over the tokens routed to it, and attention
// runs per token over its slot's rows. The origin's CPU backend serves it; forward/prefill/generateGreedy
// are the one-sequence view (slot 0). Everything is allocated in the constructor; step() allocates nothing
// in WASM memory. With `mtp`, the checkpoint's MTP module is placed too and draft() runs it (wasm-mtp.ts)
// over the hidden states the last step kept.
//
// Parity: an FP8 weight is dequantized in-register exactly as the reference dequantizes it at load (one f32
// rounding of e4m3 · scale_inv), and activations stay f32, so this model computes the reference's
// 'dequantized' GEMM mode in f32 instead of f64 — not its 'fp8' mode, whose 1×128 activation quantization
// would flip E4M3 roundings on f32-vs-f64 differences (tests/engine/deepseek/wasm-model.test.ts measures both).
import { createWasmKernels } from '../../kernels-wasm/index';
import {
  DRAFT_VOCAB_FILE,
  parseDraftVocab,
  placeDraftVocab,
  spreadDraftLogits,
  type DraftVocab,
} from './draft-vocab';
import type { KernelBackend } from '../../kernels-wasm/types';
import { mlaDims } from './block';
import { wasmBlockForward, type BlockStep } from './wasm-block';
import type { DeepSeekConfig } from './config';
import { gateOptions } from './moe';
import { argmax } from './ops';
import { mlaSoftmaxScale } from './rope';
import { deepSeekKit, linearForward, type DeepSeekKit } from './wasm-linear';
import { createMlaBuffers, createMlaCache, type WasmMlaCache } from './wasm-mla';
import { createMoeBuffers, moeDims } from './wasm-moe';
import {
  createWasmMtp,
  mtpInputRow,
  wasmMtpForward,
  type MtpStepSequence,
  type WasmMtp,
} from './wasm-mtp';
import { placeDeepSeekWeights, type WasmDeepSeekWeights } from './wasm-weights';
import { useWasmSoftmax } from '../sampling/sampler';

export interface WasmModelOptions {
  /** Positions each slot's cache holds (default: min(max_position_embeddings, 4096)). */
  maxSeqLen?: number;
  /** Most tokens one step takes, over all its sequences (default 64). */
  maxBatch?: number;
  /** Sequences held at once, one latent cache each (default 1). */
  maxSlots?: number;
  /** Rows of logits one step returns (default maxBatch: forward() returns every token's). */
  maxLogitRows?: number;
  /** 'fp8' (default): FP8 projections stay E4M3 + scales; 'dequantized': f32 at load. */
  gemm?: 'fp8' | 'dequantized';
  /** 'simd' (default) or 'scalar': every op through its scalar twin. */
  kernels?: 'simd' | 'scalar';
  /** Place the checkpoint's MTP module, if it has one, for draft() (default false). */
  mtp?: boolean;
  /** Score drafts over the draft_vocab.json the files hold, if any (default true: draft-vocab.ts). */
  draftVocab?: boolean;
}

/** The tokens one sequence feeds into a step: positions startPos .. startPos + tokens.length - 1. */
export interface WasmStepSequence {
  slot: number;
  tokens: ArrayLike<number>;
  startPos: number;
  /** Return the logits of the last of these tokens. */
  wantLogits: boolean;
  /** Return the logits of every one of these tokens (verifying a draft), in order. */
  allLogits?: boolean;
  /**
   * Return the logits of the first of these tokens only: a verify step's [last token, draft], whose
   * draft row gets its logits from rowLogits() once the draft stands (the head is most of a small
   * model's step; a rejected draft then costs no second pass over it).
   */
  firstLogits?: boolean;
}

export class WasmDeepSeekModel {
  readonly config: DeepSeekConfig;
  readonly maxSeqLen: number;
  readonly maxBatch: number;
  readonly maxSlots: number;
  readonly maxLogitRows: number;
  readonly weights: WasmDeepSeekWeights;
  private readonly kit: DeepSeekKit;
  private readonly caches: WasmMlaCache[][]; // [layer][slot]
  private readonly s: BlockStep; // the step's residual stream, token table and scratch
  private readonly logitRows: Int32Array; // the step's tokens that get logits, in batch order
  private readonly hn: number; // [maxLogitRows, hidden] final-normed rows that get logits
  private readonly logits: number; // [maxLogitRows, vocab]
  private readonly lin: number; // projection scratch
  private readonly heap: Float32Array; // the whole memory, for copies and results
  /** The MTP module, when placed; its input rows are the last main step's final hidden states. */
  private readonly mtp: WasmMtp | null;
  /** The ids the draft's head scores, when the files list them (else the whole vocabulary). */
  private readonly draftVocab: DraftVocab | null;
  private readonly hidden: number; // [maxBatch, hidden] model.norm(x) of every token of the last step
  private lastStepTokens = 0;
  /** Whether s.x still holds the last step's final residual rows (draft() overwrites them). */
  private stepRowsKept = false;

  /** Instantiates the kernels module and places the checkpoint in its memory. */
  static async load(
    module: WebAssembly.Module,
    files: Record<string, Uint8Array>,
    opts: WasmModelOptions = {},
  ): Promise<WasmDeepSeekModel> {
    return new WasmDeepSeekModel(await createWasmKernels(module), files, opts);
  }

  /** backend: a fresh WASM kernel backend, used by this model alone. */
  constructor(
    backend: KernelBackend,
    files: Record<string, Uint8Array>,
    opts: WasmModelOptions = {},
  ) {
    this.kit = deepSeekKit(backend, opts.kernels);
    const w = (this.weights = placeDeepSeekWeights(backend, files, {
      dequantize: opts.gemm === 'dequantized',
      mtp: opts.mtp,
    }));
    const c = (this.config = w.config),
      h = c.hiddenSize,
      mem = backend;
    useWasmSoftmax(backend, c.vocabSize);
    this.maxSeqLen = opts.maxSeqLen ?? Math.min(c.maxPositionEmbeddings, 4096);
    this.maxBatch = opts.maxBatch ?? 64;
    this.maxSlots = opts.maxSlots ?? 1;
    this.maxLogitRows = opts.maxLogitRows ?? this.maxBatch;
    const B = this.maxBatch,
      T = this.maxSeqLen,
      L = this.maxLogitRows;
    const dims = mlaDims(c);
    this.caches = w.layers.map(() =>
      Array.from({ length: this.maxSlots }, () => createMlaCache(mem, dims, T)),
    );
    this.mtp = w.mtp ? createWasmMtp(mem, w.mtp, c, dims, this.maxSlots, T, B) : null;
    this.hidden = w.mtp ? mem.alloc(B * h) : 0;
    this.logitRows = new Int32Array(L);
    const x = mem.alloc(B * h),
      xb = mem.alloc(B * h),
      out = mem.alloc(B * h);
    this.hn = mem.alloc(L * h);
    this.logits = mem.alloc(L * c.vocabSize);
    const listed = files[DRAFT_VOCAB_FILE];
    this.draftVocab =
      this.mtp && listed && opts.draftVocab !== false
        ? placeDraftVocab(mem, w.lmHead, parseDraftVocab(listed, c.vocabSize), L)
        : null;
    const widest = Math.max(
      2 * h,
      c.intermediateSize,
      c.moeIntermediateSize * Math.max(1, c.nSharedExperts),
      c.qLoraRank ?? 0,
      c.numAttentionHeads * c.vHeadDim,
    );
    const lin = (this.lin = mem.alloc(4 * widest));
    const mla = createMlaBuffers(mem, c, dims, B, T, lin);
    const moe = createMoeBuffers(mem, moeDims(c), B, lin);
    const heap = (this.heap = mem.f32(0, mem.bytesUsed / 4)); // memory never grows after this
    const tok = { slot: new Int32Array(B), pos: new Int32Array(B) };
    const [kit, eps, scale, gate] = [this.kit, c.rmsNormEps, mlaSoftmaxScale(c), gateOptions(c)];
    this.s = { kit, heap, dims, gate, hidden: h, eps, scale, tok, x, xb, out, mla, moe };
  }

  /** Whether the checkpoint's MTP module is placed (draft() runs it). */
  get hasMtp(): boolean {
    return this.mtp !== null;
  }

  /** How many ids the draft's head scores: the draft vocabulary's, or the whole vocabulary's. */
  get draftVocabSize(): number {
    return this.draftVocab?.ids.length ?? this.config.vocabSize;
  }

  /**
   * One forward over every sequence's tokens together (a slot's rows before its startPos must hold its
   * earlier tokens). Returns the logits [vocab] of each sequence with wantLogits (of each of its tokens
   * with allLogits), in batch order: views into WASM memory, valid until the next call.
   */
  step(batch: readonly WasmStepSequence[]): Float32Array[] {
    let T = 0,
      n = 0;
    for (const seq of batch) {
      const first = this.embed(seq, T) - seq.tokens.length;
      T = first + seq.tokens.length;
      if (seq.allLogits) for (let t = first; t < T; t++) n = this.markLogits(n, t);
      else if (seq.firstLogits) n = this.markLogits(n, first);
      else if (seq.wantLogits) n = this.markLogits(n, T - 1);
    }
    this.run(T, n);
    return Array.from({ length: n }, (_, i) => this.logitsRow(i));
  }

  /**
   * The logits [vocab] of token rows of the last step() (batch order: the step's rows are its sequences'
   * tokens one after another), computed now: the final residual rows stay until the next step() or
   * draft(). Views into WASM memory, valid until the next call (they reuse the rows step() returned).
   */
  rowLogits(rows: readonly number[]): Float32Array[] {
    for (const row of rows)
      if (!this.stepRowsKept || !Number.isInteger(row) || row < 0 || row >= this.lastStepTokens)
        throw new RangeError(
          `row ${row} is not a row of the last step (draft() ran, or out of range)`,
        );
    let n = 0;
    for (const row of rows) n = this.markLogits(n, row);
    this.head(n, this.weights.norm);
    return Array.from({ length: n }, (_, i) => this.logitsRow(i));
  }

  /**
   * The MTP module over rows of the last step() or forward() (their hidden states stay until the next
   * one; draft() does not touch them): writes each sequence's MTP cache rows and returns the draft logits
   * [vocab] (for the token after the last of its nextTokens) of each sequence with wantLogits, in batch
   * order (-Infinity off the draft vocabulary, when there is one): views into WASM memory, valid until
   * the next call.
   */
  draft(batch: readonly MtpStepSequence[]): Float32Array[] {
    const m = this.mtp;
    if (!m) throw new Error('the MTP module is not placed (no MTP weights, or mtp: false)');
    const h = this.config.hiddenSize,
      e = this.weights.embed;
    let T = 0,
      n = 0;
    for (const seq of batch) {
      const len = seq.nextTokens.length;
      if (seq.hiddenRow < 0 || seq.hiddenRow + len > this.lastStepTokens)
        throw new RangeError(
          `hidden rows ${seq.hiddenRow}..${seq.hiddenRow + len - 1} outside the last step's ${this.lastStepTokens}`,
        );
      const first = T,
        hidden = (row: number) => this.hidden + 4 * (seq.hiddenRow + row - first) * h;
      T = this.place({ ...seq, tokens: seq.nextTokens }, T, (id, row) =>
        mtpInputRow(this.s, m, row, e + 4 * id * h, hidden(row), seq.startPos + row - first),
      );
      if (seq.wantLogits) n = this.markLogits(n, T - 1);
    }
    this.stepRowsKept = false;
    wasmMtpForward(this.s, m, T, this.lin);
    this.draftHead(n, m.w.headNorm);
    return Array.from({ length: n }, (_, i) => this.logitsRow(i));
  }

  /**
   * Runs one sequence's tokens at positions startPos.. of a slot; returns every token's logits
   * [T, vocab] (a view into WASM memory, valid until the next call).
   */
  forward(tokens: ArrayLike<number>, startPos: number, slot = 0): Float32Array {
    const T = this.embed({ slot, tokens, startPos, wantLogits: true }, 0);
    for (let t = 0; t < T; t++) this.markLogits(t, t);
    this.run(T, T);
    const V = this.config.vocabSize;
    return this.heap.subarray(this.logits >> 2, (this.logits >> 2) + T * V);
  }

  /** Feeds a prompt (in chunks of maxBatch) from position 0 of a slot; returns its last token's logits. */
  prefill(prompt: ArrayLike<number>, slot = 0): Float32Array {
    let last: Float32Array = new Float32Array(0);
    for (let at = 0; at < prompt.length; at += this.maxBatch) {
      const chunk = Array.from(
        { length: Math.min(this.maxBatch, prompt.length - at) },
        (_, i) => prompt[at + i],
      );
      [last] = this.step([{ slot, tokens: chunk, startPos: at, wantLogits: true }]);
    }
    return last;
  }

  /** Plain greedy decoding: maxNewTokens argmax tokens after the prompt, one step per token. */
  generateGreedy(prompt: ArrayLike<number>, maxNewTokens: number, slot = 0): number[] {
    if (prompt.length === 0) throw new RangeError('prompt must hold at least one token');
    const out: number[] = [];
    let next = argmax(this.prefill(prompt, slot));
    for (let pos = prompt.length; out.length < maxNewTokens; pos++) {
      out.push(next);
      if (out.length === maxNewTokens) break;
      next = argmax(this.step([{ slot, tokens: [next], startPos: pos, wantLogits: true }])[0]);
    }
    return out;
  }

  /** A slot's cache of one layer: kv_norm(c_kv) [maxSeqLen, latent] and k_pe [maxSeqLen, rope], f32 views. */
  cacheRows(slot: number, layer: number): { kv: Float32Array; pe: Float32Array } {
    const cache = this.caches[layer][slot],
      d = this.s.dims;
    return {
      kv: this.heap.subarray(cache.kv >> 2, (cache.kv >> 2) + this.maxSeqLen * d.latent),
      pe: this.heap.subarray(cache.pe >> 2, (cache.pe >> 2) + this.maxSeqLen * d.rope),
    };
  }

  /** The step's forward, top to bottom, over T tokens (x holds their embeddings); n of them get logits. */
  private run(T: number, n: number): void {
    const { s, weights: w } = this,
      h = this.config.hiddenSize;
    for (let l = 0; l < w.layers.length; l++) wasmBlockForward(s, w.layers[l], this.caches[l], T);
    if (this.mtp)
      for (let t = 0; t < T; t++)
        s.kit.k.rmsnorm(this.hidden + 4 * t * h, s.x + 4 * t * h, w.norm, h, s.eps); // [T, hidden]
    this.lastStepTokens = T;
    this.stepRowsKept = true;
    this.head(n, w.norm);
  }

  /** logits[n, vocab] = head(norm(x)) of the n rows in logitRows. */
  private head(n: number, norm: number): void {
    this.normRows(n, norm);
    if (n > 0) linearForward(this.s.kit, this.logits, this.weights.lmHead, this.hn, n, this.lin); // [n, vocab]
  }

  /** The draft's logits[n, vocab]: the head over the draft vocabulary's ids only, when there is one. */
  private draftHead(n: number, norm: number): void {
    const d = this.draftVocab;
    if (!d) return this.head(n, norm);
    this.normRows(n, norm);
    if (n > 0) linearForward(this.s.kit, d.out, d.head, this.hn, n, this.lin); // [n, ids]
    for (let i = 0; i < n; i++) spreadDraftLogits(d, this.heap, i, this.logitsRow(i));
  }

  /** hn[n, hidden] = norm(x) of the n rows in logitRows. */
  private normRows(n: number, norm: number): void {
    const { s } = this,
      h = this.config.hiddenSize;
    for (let i = 0; i < n; i++)
      s.kit.k.rmsnorm(this.hn + 4 * i * h, s.x + 4 * this.logitRows[i] * h, norm, h, s.eps);
  }

  /** Checks one sequence and lays its tokens' embeddings out from row T; returns the next free row. */
  private embed(seq: WasmStepSequence, T: number): number {
    const h = this.config.hiddenSize,
      e = this.weights.embed >> 2,
      x = this.s.x >> 2;
    return this.place(seq, T, (id, row) =>
      this.heap.copyWithin(x + row * h, e + id * h, e + (id + 1) * h),
    );
  }

  /** Checks one sequence's slot, positions and token ids; fills the token table from row T (and `row`). */
  private place(
    seq: Omit<WasmStepSequence, 'wantLogits'>,
    T: number,
    row: (id: number, row: number) => void,
  ): number {
    const V = this.config.vocabSize,
      n = seq.tokens.length;
    if (!Number.isInteger(seq.slot) || seq.slot < 0 || seq.slot >= this.maxSlots)
      throw new RangeError(`slot ${seq.slot} outside 0..${this.maxSlots - 1}`);
    if (n < 1 || T + n > this.maxBatch)
      throw new RangeError(`a step takes 1..${this.maxBatch} tokens, got ${T + n}`);
    if (seq.startPos < 0 || seq.startPos + n > this.maxSeqLen)
      throw new RangeError(
        `positions ${seq.startPos}..${seq.startPos + n - 1} exceed maxSeqLen ${this.maxSeqLen}`,
      );
    for (let i = 0; i < n; i++, T++) {
      const id = seq.tokens[i];
      if (!Number.isInteger(id) || id < 0 || id >= V)
        throw new RangeError(`token id ${id} outside vocab 0..${V - 1}`);
      row(id, T);
      this.s.tok.slot[T] = seq.slot;
      this.s.tok.pos[T] = seq.startPos + i;
    }
    return T;
  }

  private markLogits(n: number, row: number): number {
    if (n >= this.maxLogitRows)
      throw new RangeError(`a step returns at most ${this.maxLogitRows} rows of logits`);
    this.logitRows[n] = row;
    return n + 1;
  }

  private logitsRow(i: number): Float32Array {
    const V = this.config.vocabSize,
      at = (this.logits >> 2) + i * V;
    return this.heap.subarray(at, at + V);
  }
}
