// The WebGPU step backend: the origin's StepBackend over kernels-gpu's GpuDeepSeekBackend (the whole
// DeepSeek-V3 step in WGSL, FP8 weights on the GPU, a paged latent KV cache). The GPU backend already
// has the StepBackend shape; this room adds what the origin needs around it: the activation mode named
// the way the origin's --gemm names the reference's arithmetic, and prefix-cache copies that give their
// GPU buffer back when the cache evicts them.
import type { DeepSeekWeights } from '../../engine/deepseek/weights';
import { GpuDeepSeekBackend, type GpuKvRows } from '../../kernels-gpu/deepseek-backend';
import { describeGpu, type Gpu } from '../../kernels-gpu/device';
import type { KvRows, StepBackend, StepSequence } from './step-backend';

export interface WebGpuBackendOptions {
  gpu: Gpu;
  maxSlots: number;
  maxSeqLen?: number;
  maxStepTokens?: number;
  /**
   * 'fp8': W8A8, activations quantized per 1×128 block (DeepSeek-V3's scheme; the reference's --gemm fp8).
   * 'dequantized': weight-only FP8 with f32 activations, which the reference's --gemm dequantized matches
   * greedy token for greedy token. Weights stay FP8 on the GPU either way.
   */
  gemm: 'fp8' | 'dequantized';
}

/** Saved rows on the GPU; the prefix cache calls release() when it drops them. */
interface ReleasableRows extends KvRows {
  readonly gpu: GpuKvRows;
  release(): void;
}

export class WebGpuBackend implements StepBackend {
  readonly name = 'webgpu';
  readonly vocabSize: number;
  readonly maxSeqLen: number;
  readonly maxSlots: number;
  readonly maxStepTokens: number;
  readonly maxLogitRows: number;
  /** "llvmpipe (mesa, software) fallback", for the startup line. */
  readonly device: string;

  static async create(weights: DeepSeekWeights, o: WebGpuBackendOptions): Promise<WebGpuBackend> {
    const gpu = await GpuDeepSeekBackend.create(weights, {
      gpu: o.gpu,
      maxSlots: o.maxSlots,
      maxSeqLen: o.maxSeqLen,
      maxStepTokens: o.maxStepTokens,
      activations: o.gemm === 'fp8' ? 'fp8' : 'f32',
    });
    return new WebGpuBackend(gpu);
  }

  private constructor(private readonly gpu: GpuDeepSeekBackend) {
    this.vocabSize = gpu.vocabSize;
    this.maxSeqLen = gpu.maxSeqLen;
    this.maxSlots = gpu.maxSlots;
    this.maxStepTokens = gpu.maxStepTokens;
    this.maxLogitRows = gpu.maxLogitRows;
    this.device = describeGpu(gpu.gpu);
  }

  /** Bytes of weights, activations and KV cache on the GPU. */
  get gpuBytes(): number {
    return this.gpu.gpuBytes;
  }

  allocate(): number | null {
    return this.gpu.allocate();
  }

  free(slot: number): void {
    this.gpu.free(slot);
  }

  step(batch: readonly StepSequence[]): Promise<Float32Array[]> {
    return this.gpu.step(batch);
  }

  saveKv(slot: number, start: number, count: number): KvRows {
    const rows = this.gpu.saveKv(slot, start, count);
    // Copies already submitted that read the buffer still complete after destroy().
    const saved: ReleasableRows = {
      tokens: rows.tokens,
      bytes: rows.bytes,
      gpu: rows,
      release: () => rows.buffer.destroy(),
    };
    return saved;
  }

  restoreKv(slot: number, start: number, rows: KvRows): void {
    const saved = rows as Partial<ReleasableRows>;
    if (!saved.gpu)
      throw new TypeError('restoreKv: these rows were not saved by the WebGPU backend');
    this.gpu.restoreKv(slot, start, saved.gpu);
  }

  destroy(): void {
    this.gpu.destroy();
  }
}
