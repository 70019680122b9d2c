// The DeepSeek-V3 model on the WASM kernels: the same checkpoint files as loadDeepSeekModel, FP8 projections
// kept in FP8 in WASM memory, f32 activations; the same contract as DeepSeekReferenceModel (forward over a
// batch of consecutive tokens, prefill, greedy decoding). Everything is allocated in the constructor;
// forward() allocates nothing. Main model only (MTP modules are not placed).
//
// Parity: an FP8 weight is dequantized in-register exactly as the reference dequantizes it at load (one f32
// rounding of e4m3 · scale_inv), and activations stay f32, so this model computes the reference's default
// 'dequantized' mode in f32 instead of f64 — not its 'fp8' mode, whose 1×128 activation quantization would
// flip E4M3 roundings on f32-vs-f64 differences (tests/engine/deepseek/wasm-model.test.ts measures both).
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
  /** Positions the caches hold (default: min(max_position_embeddings, 4096)). */
  maxSeqLen?: number;
  /** Most tokens one forward() takes (default 64). */
  maxBatch?: number;
  /** 'simd' (default) or 'scalar': every op through its scalar twin. */
  kernels?: 'simd' | 'scalar';
}

export class WasmDeepSeekModel {
  readonly config: DeepSeekConfig;
  readonly maxSeqLen: number;
  readonly maxBatch: number;
  readonly weights: WasmDeepSeekWeights;
  private readonly kit: DeepSeekKit;
  private readonly caches: WasmMlaCache[];
  private readonly dims: MlaDims;
  private readonly gate: GateOptions;
  private readonly scale: number;
  private readonly x: number; // [maxBatch, hidden] residual stream
  private readonly xb: number; // [maxBatch, hidden] normed sub-layer input
  private readonly out: number; // [maxBatch, hidden] sub-layer output
  private readonly logits: number; // [maxBatch, vocab]
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
    const w = (this.weights = placeDeepSeekWeights(backend, files));
    const c = (this.config = w.config),
      h = c.hiddenSize,
      mem = backend;
    this.maxSeqLen = opts.maxSeqLen ?? Math.min(c.maxPositionEmbeddings, 4096);
    this.maxBatch = opts.maxBatch ?? 64;
    const B = this.maxBatch,
      T = this.maxSeqLen;
    this.dims = mlaDims(c);
    this.gate = gateOptions(c);
    this.scale = mlaSoftmaxScale(c);
    this.caches = w.layers.map(() => createMlaCache(mem, this.dims, T));
    this.x = mem.alloc(B * h);
    this.xb = mem.alloc(B * h);
    this.out = mem.alloc(B * h);
    this.logits = mem.alloc(B * c.vocabSize);
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
   * Runs tokens at positions startPos.. (cache rows 0..startPos-1 must hold the earlier tokens); returns
   * their logits [T, vocab] (a view into WASM memory, valid until the next call).
   */
  forward(tokens: ArrayLike<number>, startPos: number): Float32Array {
    const c = this.config,
      h = c.hiddenSize,
      V = c.vocabSize,
      T = tokens.length,
      eps = c.rmsNormEps;
    const { kit, heap, weights: w } = this,
      { k } = kit;
    if (T < 1 || T > this.maxBatch)
      throw new RangeError(`forward takes 1..${this.maxBatch} tokens, got ${T}`);
    if (startPos < 0 || startPos + T > this.maxSeqLen)
      throw new RangeError(
        `positions ${startPos}..${startPos + T - 1} exceed maxSeqLen ${this.maxSeqLen}`,
      );
    const x = this.x,
      xb = this.xb,
      out = this.out; // [T, hidden] each

    for (let t = 0; t < T; t++) {
      const id = tokens[t];
      if (!Number.isInteger(id) || id < 0 || id >= V)
        throw new RangeError(`token id ${id} outside vocab 0..${V - 1}`);
      heap.copyWithin((x >> 2) + t * h, (w.embed >> 2) + id * h, (w.embed >> 2) + (id + 1) * h);
    }
    for (let l = 0; l < w.layers.length; l++) {
      const layer = w.layers[l];
      for (let t = 0; t < T; t++) k.rmsnorm(xb + 4 * t * h, x + 4 * t * h, layer.attnNorm, h, eps);
      wasmMlaForward(
        kit,
        heap,
        out,
        xb,
        T,
        startPos,
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
    for (let t = 0; t < T; t++) k.rmsnorm(x + 4 * t * h, x + 4 * t * h, w.norm, h, eps); // [hidden]
    linearForward(kit, this.logits, w.lmHead, x, T, this.mla.lin); // [T, vocab]
    return heap.subarray(this.logits >> 2, (this.logits >> 2) + T * V);
  }

  /** Feeds a prompt (in chunks of maxBatch) from position 0; returns the logits of its last token. */
  prefill(prompt: ArrayLike<number>): Float32Array {
    const V = this.config.vocabSize;
    let last: Float32Array = new Float32Array(0);
    for (let at = 0; at < prompt.length; at += this.maxBatch) {
      const chunk = Array.from(
        { length: Math.min(this.maxBatch, prompt.length - at) },
        (_, i) => prompt[at + i],
      );
      last = this.forward(chunk, at).subarray((chunk.length - 1) * V, chunk.length * V);
    }
    return last;
  }

  /** Plain greedy decoding: maxNewTokens argmax tokens after the prompt, one forward per token. */
  generateGreedy(prompt: ArrayLike<number>, maxNewTokens: number): number[] {
    if (prompt.length === 0) throw new RangeError('prompt must hold at least one token');
    const out: number[] = [];
    let next = argmax(this.prefill(prompt));
    for (let pos = prompt.length; out.length < maxNewTokens; pos++) {
      out.push(next);
      if (out.length === maxNewTokens) break;
      next = argmax(this.forward([next], pos));
    }
    return out;
  }
}
