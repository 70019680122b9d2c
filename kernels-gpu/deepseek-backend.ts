// The WebGPU backend of the DeepSeek-V3 forward step. Weights are uploaded once (projections stay FP8),
// activations and the paged latent KV cache are allocated once, pipelines compiled once; a step writes
// its rows (token, position, slot) and any page-table rows that grew, runs every layer on the GPU in one
// compute pass, and reads back only the logits it was asked for.
//
// It has the shape of origin/backend/step-backend.ts's StepBackend (slots, step, saveKv/restoreKv), so
// the origin's scheduler can drive it; the prefix-cache copies it hands out stay on the GPU.
import { mlaDims } from '../engine/deepseek/block';
import type { DeepSeekConfig } from '../engine/deepseek/config';
import { loadDeepSeekModel, type DeepSeekWeights } from '../engine/deepseek/weights';
import { buildForward, createActivations, type Activations } from './deepseek-forward';
import { bufferBytes, uploadDeepSeekWeights, type GpuDeepSeekWeights } from './deepseek-weights';
import { describeGpu, requestGpu, type Gpu } from './device';
import { GpuKernelError, storageBuffer } from './kernel';
import { KvPages } from './kv-pages';
import type { PagedCache } from './mla';

/** The tokens one sequence feeds into a step: positions startPos .. startPos + tokens.length - 1. */
export interface GpuStepSequence {
  slot: number;
  tokens: ArrayLike<number>;
  startPos: number;
  /** Return the logits of the last of these tokens. */
  wantLogits: boolean;
  /** Return the logits of every one of these tokens, in order (prompt scoring). */
  allLogits?: boolean;
}

/** Rows of logits a step can return beyond one per slot: a scored prompt's chunk (echo with logprobs). */
const SCORED_ROWS = 32;

/** Saved cache rows of one slot, kept on the GPU: [layers, tokens, latent + rope] f32. */
export interface GpuKvRows {
  readonly tokens: number;
  readonly bytes: number;
  readonly buffer: GPUBuffer;
}

export interface GpuDeepSeekOptions {
  /** Concurrent sequences. */
  maxSlots: number;
  /** Positions per sequence (default: min(max_position_embeddings, 4096)). */
  maxSeqLen?: number;
  /** Most tokens per step over all its sequences (default 64). */
  maxStepTokens?: number;
  /** Positions per KV page (default 16). */
  pageSize?: number;
  /** KV pages in all (default: enough for every slot at maxSeqLen; fewer overcommits). */
  kvPages?: number;
  /**
   * 'fp8' (default): activations quantized per 1×128 block, as DeepSeek-V3 runs (W8A8); matches the
   * reference's gemm 'fp8'. 'f32': weight-only FP8; matches the reference's 'dequantized' GEMM. FP8
   * activation quantization is discontinuous: where x/scale sits on a rounding tie (BF16 inputs make
   * exact ties common), f32 and float64 can pick neighbouring codes and the difference grows from there.
   */
  activations?: 'fp8' | 'f32';
  /** A device to use instead of the process's shared one. */
  gpu?: Gpu;
}

export class GpuDeepSeekBackend {
  readonly name = 'webgpu';
  readonly vocabSize: number;
  readonly maxSeqLen: number;
  readonly maxSlots: number;
  readonly maxStepTokens: number;
  /** Bytes of weights, activations and KV cache on the GPU. */
  readonly gpuBytes: number;
  private readonly rowData: Uint32Array<ArrayBuffer>; // [maxStepTokens, 4]
  /** Rows of logits one step may return (its sequences' wantLogits rows and allLogits chunks together). */
  readonly maxLogitRows: number;
  private readonly staging: GPUBuffer; // [maxLogitRows, vocab] MAP_READ
  private readonly outputs: Float32Array[]; // per returned sequence, [vocab], valid until the next step
  private busy = false;

  private constructor(
    readonly gpu: Gpu,
    readonly config: DeepSeekConfig,
    private readonly w: GpuDeepSeekWeights,
    private readonly a: Activations,
    private readonly caches: PagedCache[],
    private readonly pageTable: GPUBuffer,
    private readonly pages: KvPages,
    private readonly forward: (pass: GPUComputePassEncoder, T: number) => void,
    opts: Required<Omit<GpuDeepSeekOptions, 'gpu'>>,
  ) {
    this.vocabSize = config.vocabSize;
    this.maxSeqLen = opts.maxSeqLen;
    this.maxSlots = opts.maxSlots;
    this.maxStepTokens = opts.maxStepTokens;
    this.rowData = new Uint32Array(opts.maxStepTokens * 4);
    const outRows = (this.maxLogitRows = Math.min(
      opts.maxStepTokens,
      Math.max(opts.maxSlots, SCORED_ROWS),
    ));
    this.staging = gpu.device.createBuffer({
      label: 'logits.staging',
      size: outRows * config.vocabSize * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    this.outputs = Array.from({ length: outRows }, () => new Float32Array(config.vocabSize));
    this.gpuBytes =
      w.bytes + bufferBytes(a) + bufferBytes(caches.map((c) => c.cache)) + pageTable.size;
  }

  static async create(
    weights: DeepSeekWeights,
    opts: GpuDeepSeekOptions,
  ): Promise<GpuDeepSeekBackend> {
    const c = weights.config,
      gpu = opts.gpu ?? (await requestGpu());
    const maxSeqLen = opts.maxSeqLen ?? Math.min(c.maxPositionEmbeddings, 4096),
      pageSize = opts.pageSize ?? 16;
    const full = {
      maxSlots: opts.maxSlots,
      maxSeqLen,
      maxStepTokens: opts.maxStepTokens ?? 64,
      pageSize,
      activations: opts.activations ?? 'fp8',
      kvPages: opts.kvPages ?? opts.maxSlots * Math.ceil(maxSeqLen / pageSize),
    };
    const pages = new KvPages(full.maxSlots, full.kvPages, pageSize, maxSeqLen);
    const d = mlaDims(c);
    const pageTable = storageBuffer(gpu, pages.table.byteLength, 'pageTable');
    const caches = weights.layers.map((_, l): PagedCache => ({
      cache: storageBuffer(gpu, full.kvPages * pageSize * (d.latent + d.rope) * 4, `kv.${l}`),
      pageTable,
      pages: full.kvPages,
      pageSize,
      slots: full.maxSlots,
      maxPages: pages.maxPages,
    }));
    const w = uploadDeepSeekWeights(gpu, weights);
    const a = createActivations(gpu, c, full);
    const forward = await buildForward(gpu, c, w, a, caches, full);
    return new GpuDeepSeekBackend(gpu, c, w, a, caches, pageTable, pages, forward, full);
  }

  /** "llvmpipe (mesa, software) fallback", for /health. */
  get device(): string {
    return describeGpu(this.gpu);
  }

  allocate(): number | null {
    return this.pages.allocate();
  }

  free(slot: number): void {
    this.pages.free(slot);
  }

  /**
   * One forward over every sequence's tokens; resolves to the logits of each sequence with wantLogits
   * (of each of its tokens with allLogits), in batch order.
   */
  async step(batch: readonly GpuStepSequence[]): Promise<Float32Array[]> {
    if (this.busy)
      throw new GpuKernelError(
        'step: the previous step has not finished (steps run one at a time)',
      );
    this.busy = true;
    try {
      const { T, wanted } = this.layoutRows(batch);
      const { device } = this.gpu,
        V = this.vocabSize;
      device.queue.writeBuffer(this.a.rowInfo, 0, this.rowData, 0, T * 4);
      device.pushErrorScope('validation');
      const enc = device.createCommandEncoder({ label: 'step' });
      const pass = enc.beginComputePass();
      this.forward(pass, T);
      pass.end();
      wanted.forEach((row, i) =>
        enc.copyBufferToBuffer(this.a.logits, row * V * 4, this.staging, i * V * 4, V * 4),
      );
      device.queue.submit([enc.finish()]);
      const error = await device.popErrorScope();
      if (error) throw new GpuKernelError(`step: WebGPU validation: ${error.message}`);
      if (wanted.length === 0) return [];
      await this.staging.mapAsync(GPUMapMode.READ, 0, wanted.length * V * 4);
      const all = new Float32Array(this.staging.getMappedRange(0, wanted.length * V * 4));
      const out = wanted.map((_, i) => {
        this.outputs[i].set(all.subarray(i * V, (i + 1) * V));
        return this.outputs[i];
      });
      this.staging.unmap();
      return out;
    } finally {
      this.busy = false;
    }
  }

  /** Validates the batch, reserves KV pages, fills rowData; returns T and the rows whose logits return. */
  private layoutRows(batch: readonly GpuStepSequence[]): { T: number; wanted: number[] } {
    const seen = new Set<number>(),
      wanted: number[] = [];
    let T = 0,
      tableChanged = false;
    for (const seq of batch) {
      const n = seq.tokens.length,
        where = `step: slot ${seq.slot}`;
      if (!this.pages.isAllocated(seq.slot)) throw new GpuKernelError(`${where} is not allocated`);
      if (seen.has(seq.slot)) throw new GpuKernelError(`${where} appears twice in one step`);
      seen.add(seq.slot);
      if (n < 1) throw new GpuKernelError(`${where} feeds no tokens`);
      if (
        !Number.isInteger(seq.startPos) ||
        seq.startPos < 0 ||
        seq.startPos + n > this.maxSeqLen
      ) {
        throw new GpuKernelError(
          `${where}: positions ${seq.startPos}..${seq.startPos + n - 1} outside 0..${this.maxSeqLen - 1}`,
        );
      }
      if (T + n > this.maxStepTokens)
        throw new GpuKernelError(`step: more than ${this.maxStepTokens} tokens`);
      tableChanged = this.pages.reserve(seq.slot, seq.startPos + n) || tableChanged;
      for (let i = 0; i < n; i++, T++) {
        const id = seq.tokens[i];
        if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize)
          throw new GpuKernelError(
            `${where}: token id ${id} outside vocab 0..${this.vocabSize - 1}`,
          );
        this.rowData.set([id, seq.startPos + i, seq.slot, 0], T * 4);
      }
      if (seq.allLogits) for (let t = T - n; t < T; t++) wanted.push(t);
      else if (seq.wantLogits) wanted.push(T - 1);
    }
    if (T === 0) throw new GpuKernelError('step: empty batch');
    if (wanted.length > this.maxLogitRows)
      throw new GpuKernelError(`step: more than ${this.maxLogitRows} rows of logits`);
    if (tableChanged) this.gpu.device.queue.writeBuffer(this.pageTable, 0, this.pages.table);
    return { T, wanted };
  }

  /** Copies rows [start, start+count) of a slot's cache, every layer, into a new GPU buffer. */
  saveKv(slot: number, start: number, count: number): GpuKvRows {
    const width = this.rowBytes(),
      layers = this.caches.length;
    const buffer = storageBuffer(this.gpu, layers * count * width, `kv.saved.${slot}`);
    this.copyRows(slot, start, count, (l, pos, i) => [
      this.caches[l].cache,
      this.pages.row(slot, pos) * width,
      buffer,
      (l * count + i) * width,
    ]);
    return { tokens: count, bytes: buffer.size, buffer };
  }

  /** Writes saved rows back at positions [start, start + rows.tokens) of a slot (reserving its pages). */
  restoreKv(slot: number, start: number, rows: GpuKvRows): void {
    const width = this.rowBytes(),
      count = rows.tokens;
    if (this.pages.reserve(slot, start + count))
      this.gpu.device.queue.writeBuffer(this.pageTable, 0, this.pages.table);
    this.copyRows(slot, start, count, (l, pos, i) => [
      rows.buffer,
      (l * count + i) * width,
      this.caches[l].cache,
      this.pages.row(slot, pos) * width,
    ]);
  }

  private rowBytes(): number {
    return (this.config.kvLoraRank + this.config.qkRopeHeadDim) * 4;
  }

  /** One copy per (layer, run of positions inside one page). */
  private copyRows(
    slot: number,
    start: number,
    count: number,
    at: (l: number, pos: number, i: number) => [GPUBuffer, number, GPUBuffer, number],
  ): void {
    const enc = this.gpu.device.createCommandEncoder({ label: 'kv.copy' }),
      size = this.pages.pageSize,
      width = this.rowBytes();
    for (let l = 0; l < this.caches.length; l++) {
      for (let i = 0; i < count;) {
        const pos = start + i,
          run = Math.min(count - i, size - (pos % size));
        const [src, srcOff, dst, dstOff] = at(l, pos, i);
        enc.copyBufferToBuffer(src, srcOff, dst, dstOff, run * width);
        i += run;
      }
    }
    this.gpu.device.queue.submit([enc.finish()]);
  }

  /** Frees the GPU memory this backend holds (weights, activations, caches). */
  destroy(): void {
    const all: GPUBuffer[] = [];
    const walk = (o: unknown): void => {
      if (o instanceof GPUBuffer) all.push(o);
      else if (o && typeof o === 'object') Object.values(o).forEach(walk);
    };
    walk([this.w, this.a, this.caches.map((c) => c.cache), this.pageTable, this.staging]);
    all.forEach((b) => b.destroy());
  }
}

/** Loads a checkpoint's files (config.json + *.safetensors) with FP8 projections and starts the backend. */
export async function createGpuDeepSeek(
  files: Record<string, Uint8Array>,
  opts: GpuDeepSeekOptions,
): Promise<GpuDeepSeekBackend> {
  return GpuDeepSeekBackend.create(loadDeepSeekModel(files, { gemm: 'fp8' }), opts);
}
