// The DeepSeek-V3 model on the WASM kernels: the same checkpoint files as loadDeepSeekModel, FP8 projections
// kept in FP8 in WASM memory (or dequantized at load), f32 activations. One step runs the next tokens of
// several sequences at once, each in its own slot (its own latent cache): every projection reads its
// weights once for all of them, each routed expert runs once over the tokens routed to it, and attention
// runs per token over its slot's rows. The origin's CPU backend serves it; forward/prefill/generateGreedy
// are the one-sequence view (slot 0). Everything is allocated in the constructor; step() allocates nothing
// in WASM memory. Main model only (MTP modules are not placed).
//
// Parity: an FP8 weight is dequantized in-register exactly as the reference dequantizes it at load (one f32
// rounding of e4m3 · scale_inv), and activations stay f32, so this model computes the reference's
// 'dequantized' GEMM mode in f32 instead of f64 — not its 'fp8' mode, whose 1×128 activation quantization
// would flip E4M3 roundings on f32-vs-f64 differences (tests/engine/deepseek/wasm-model.test.ts measures both).
import { createWasmKernels } from '../../kernels-wasm/index';
import type { KernelBackend } from '../../kernels-wasm/types';
import { mlaDims } from './block';
import type { DeepSeekConfig } from './config';
import type { MlaDims } from './mla';
import { gateOptions, type GateOptions } from './moe';
import { argmax } from './ops';
import { mlaSoftmaxScale } from './rope';
import { deepSeekKit, linearForward, type DeepSeekKit } from './wasm-linear';
import {
  createMlaBuffers,
  createMlaCache,
  wasmMlaForward,
  type MlaBuffers,
  type StepTokens,
  type WasmMlaCache,
} from './wasm-mla';
import {
  createMoeBuffers,
  moeDims,
  wasmMlpForward,
  wasmMoeForward,
  type MoeBuffers,
} from './wasm-moe';
import { placeDeepSeekWeights, type WasmDeepSeekWeights } from './wasm-weights';

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
}

/** The tokens one sequence feeds into a step: positions startPos .. startPos + tokens.length - 1. */
export interface WasmStepSequence {
  slot: number;
  tokens: ArrayLike<number>;
  startPos: number;
  /** Return the logits of the last of these tokens. */
  wantLogits: boolean;
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
  private readonly dims: MlaDims;
  private readonly gate: GateOptions;
  private readonly scale: number;
  private readonly tok: StepTokens; // slot and position of each token of the step
  private readonly logitRows: Int32Array; // the step's tokens that get logits, in batch order
  private readonly x: number; // [maxBatch, hidden] residual stream
  private readonly xb: number; // [maxBatch, hidden] normed sub-layer input
  private readonly out: number; // [maxBatch, hidden] sub-layer output
  private readonly hn: number; // [maxLogitRows, hidden] final-normed rows that get logits
  private readonly logits: number; // [maxLogitRows, vocab]
  private readonly mla: MlaBuffers;
  private readonly moe: MoeBuffers;
  private readonly heap: Float32Array; // the whole memory, for copies and results

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
    }));
    const c = (this.config = w.config),
      h = c.hiddenSize,
      mem = backend;
    this.maxSeqLen = opts.maxSeqLen ?? Math.min(c.maxPositionEmbeddings, 4096);
    this.maxBatch = opts.maxBatch ?? 64;
    this.maxSlots = opts.maxSlots ?? 1;
    this.maxLogitRows = opts.maxLogitRows ?? this.maxBatch;
    const B = this.maxBatch,
      T = this.maxSeqLen,
      L = this.maxLogitRows;
    this.dims = mlaDims(c);
    this.gate = gateOptions(c);
    this.scale = mlaSoftmaxScale(c);
    this.caches = w.layers.map(() =>
      Array.from({ length: this.maxSlots }, () => createMlaCache(mem, this.dims, T)),
    );
    this.tok = { slot: new Int32Array(B), pos: new Int32Array(B) };
    this.logitRows = new Int32Array(L);
    this.x = mem.alloc(B * h);
    this.xb = mem.alloc(B * h);
    this.out = mem.alloc(B * h);
    this.hn = mem.alloc(L * h);
    this.logits = mem.alloc(L * c.vocabSize);
    const widest = Math.max(
      2 * h,
      c.intermediateSize,
      c.moeIntermediateSize * Math.max(1, c.nSharedExperts),
      c.qLoraRank ?? 0,
      c.numAttentionHeads * c.vHeadDim,
    );
    const lin = mem.alloc(4 * widest);
    this.mla = createMlaBuffers(mem, c, this.dims, B, T, lin);
    this.moe = createMoeBuffers(mem, moeDims(c), B, lin);
    this.heap = mem.f32(0, mem.bytesUsed / 4); // memory never grows after this
  }

  /**
   * One forward over every sequence's tokens together (a slot's rows before its startPos must hold its
   * earlier tokens). Returns the logits [vocab] of each sequence with wantLogits, in batch order: views
   * into WASM memory, valid until the next call.
   */
  step(batch: readonly WasmStepSequence[]): Float32Array[] {
    let T = 0,
      n = 0;
    for (const seq of batch) {
      T = this.embed(seq, T);
      if (seq.wantLogits) n = this.markLogits(n, T - 1);
    }
    this.run(T, n);
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
      d = this.dims;
    return {
      kv: this.heap.subarray(cache.kv >> 2, (cache.kv >> 2) + this.maxSeqLen * d.latent),
      pe: this.heap.subarray(cache.pe >> 2, (cache.pe >> 2) + this.maxSeqLen * d.rope),
    };
  }

  /** The step's forward, top to bottom, over T tokens (x holds their embeddings); n of them get logits. */
  private run(T: number, n: number): void {
    const c = this.config,
      h = c.hiddenSize,
      eps = c.rmsNormEps;
    const { kit, heap, weights: w } = this,
      { k } = kit;
    const x = this.x,
      xb = this.xb,
      out = this.out; // [T, hidden] each

    for (let l = 0; l < w.layers.length; l++) {
      const layer = w.layers[l];
      for (let t = 0; t < T; t++) k.rmsnorm(xb + 4 * t * h, x + 4 * t * h, layer.attnNorm, h, eps);
      wasmMlaForward(
        kit,
        heap,
        out,
        xb,
        T,
        this.tok,
        layer.mla,
        this.caches[l],
        this.dims,
        eps,
        this.scale,
        this.mla,
      );
      k.add(x, out, T * h);
      for (let t = 0; t < T; t++) k.rmsnorm(xb + 4 * t * h, x + 4 * t * h, layer.ffnNorm, h, eps);
      if (layer.dense) wasmMlpForward(kit, out, xb, T, layer.dense, this.moe);
      else wasmMoeForward(kit, heap, out, xb, T, layer.moe!, this.gate, h, this.moe);
      k.add(x, out, T * h);
    }
    for (let i = 0; i < n; i++)
      k.rmsnorm(this.hn + 4 * i * h, x + 4 * this.logitRows[i] * h, w.norm, h, eps); // [n, hidden]
    if (n > 0) linearForward(kit, this.logits, w.lmHead, this.hn, n, this.mla.lin); // [n, vocab]
  }

  /** Checks one sequence and lays its tokens' embeddings out from row T; returns the next free row. */
  private embed(seq: WasmStepSequence, T: number): number {
    const c = this.config,
      h = c.hiddenSize,
      V = c.vocabSize,
      n = seq.tokens.length;
    if (!Number.isInteger(seq.slot) || seq.slot < 0 || seq.slot >= this.maxSlots)
      throw new RangeError(`slot ${seq.slot} outside 0..${this.maxSlots - 1}`);
    if (n < 1 || T + n > this.maxBatch)
      throw new RangeError(`a step takes 1..${this.maxBatch} tokens, got ${T + n}`);
    if (seq.startPos < 0 || seq.startPos + n > this.maxSeqLen)
      throw new RangeError(
        `positions ${seq.startPos}..${seq.startPos + n - 1} exceed maxSeqLen ${this.maxSeqLen}`,
      );
    const e = this.weights.embed >> 2;
    for (let i = 0; i < n; i++, T++) {
      const id = seq.tokens[i];
      if (!Number.isInteger(id) || id < 0 || id >= V)
        throw new RangeError(`token id ${id} outside vocab 0..${V - 1}`);
      this.heap.copyWithin((this.x >> 2) + T * h, e + id * h, e + (id + 1) * h);
      this.tok.slot[T] = seq.slot;
      this.tok.pos[T] = seq.startPos + i;
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
