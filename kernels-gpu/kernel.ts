// The small host layer every WGSL kernel shares: compile a `.wgsl` file once per device, bind buffers once
// per call site (each site owns its params uniform and bind group, so a step can rewrite params without
// allocating), record dispatches, and move data in and out. Shaders are plain WGSL files read as they are.
import { readFileSync } from 'node:fs';
import type { Gpu } from './device';

export class GpuKernelError extends Error {
  override name = 'GpuKernelError';
}

/** Throws GpuKernelError(`${op}: ${message}`) unless ok. */
export function check(ok: boolean, op: string, message: string): asserts ok {
  if (!ok) throw new GpuKernelError(`${op}: ${message}`);
}

/** Fails unless `buffer` holds `floats` 4-byte elements (shape given for the message). */
export function checkSize(
  op: string,
  name: string,
  buffer: GPUBuffer,
  elements: number,
  shape: string,
): void {
  check(
    buffer.size >= elements * 4,
    op,
    `${name} holds ${buffer.size} bytes; ${shape} needs ${elements * 4}`,
  );
}

const pipelines = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

function wgslSource(file: string): string {
  return readFileSync(new URL(`./wgsl/${file}.wgsl`, import.meta.url), 'utf8');
}

async function compile(device: GPUDevice, file: string): Promise<GPUComputePipeline> {
  const module = device.createShaderModule({ label: file, code: wgslSource(file) });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === 'error');
  if (errors.length) {
    throw new GpuKernelError(
      `${file}.wgsl does not compile:\n${errors.map((m) => `  ${m.lineNum}:${m.linePos} ${m.message}`).join('\n')}`,
    );
  }
  return device.createComputePipelineAsync({
    label: file,
    layout: 'auto',
    compute: { module, entryPoint: 'main' },
  });
}

/** The compute pipeline of `wgsl/<file>.wgsl` (entry point `main`), compiled once per device. */
export function pipeline(gpu: Gpu, file: string): Promise<GPUComputePipeline> {
  let byFile = pipelines.get(gpu.device);
  if (!byFile) pipelines.set(gpu.device, (byFile = new Map()));
  let p = byFile.get(file);
  if (!p) byFile.set(file, (p = compile(gpu.device, file)));
  return p;
}

/** Most workgroups one dispatch dimension takes (WebGPU's guaranteed minimum). */
export const MAX_GROUPS_PER_DIM = 65535;

/** [x, y] covering `groups` workgroups; kernels rebuild the flat index as x + y·num_workgroups.x. */
export function grid(groups: number): [number, number] {
  if (groups <= MAX_GROUPS_PER_DIM) return [Math.max(groups, 1), 1];
  return [MAX_GROUPS_PER_DIM, Math.ceil(groups / MAX_GROUPS_PER_DIM)];
}

/**
 * One call site of a kernel: its bind group (params at binding 0, then `buffers` at 1..n) and its params
 * uniform. Each WGSL `Params` struct lists its u32 fields first, then its f32 fields.
 */
export class KernelCall {
  private readonly bindGroup: GPUBindGroup;
  private readonly params: GPUBuffer;
  private readonly bytes: ArrayBuffer;

  constructor(
    private readonly gpu: Gpu,
    private readonly pipe: GPUComputePipeline,
    label: string,
    buffers: GPUBuffer[],
    paramWords: number,
  ) {
    const max = gpu.device.limits.maxStorageBufferBindingSize;
    for (const b of buffers)
      check(
        b.size <= max,
        label,
        `buffer ${b.label || '?'} (${b.size} bytes) exceeds the largest binding, ${max} bytes`,
      );
    this.bytes = new ArrayBuffer(Math.ceil(paramWords / 4) * 16);
    this.params = gpu.device.createBuffer({
      label: `${label}.params`,
      size: this.bytes.byteLength,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.bindGroup = gpu.device.createBindGroup({
      label,
      layout: pipe.getBindGroupLayout(0),
      entries: [this.params, ...buffers].map((buffer, binding) => ({
        binding,
        resource: { buffer },
      })),
    });
  }

  /** Writes the params (u32 fields, then f32 fields) and records the dispatch of `groups` workgroups. */
  record(
    pass: GPUComputePassEncoder,
    u32s: number[],
    f32s: number[],
    groups: [number, number?, number?],
  ): void {
    new Uint32Array(this.bytes).set(u32s);
    new Float32Array(this.bytes).set(f32s, u32s.length);
    this.gpu.device.queue.writeBuffer(this.params, 0, this.bytes);
    pass.setPipeline(this.pipe);
    pass.setBindGroup(0, this.bindGroup);
    pass.dispatchWorkgroups(groups[0], groups[1] ?? 1, groups[2] ?? 1);
  }
}

/** A recorded op: writes its params and dispatches for `rows` rows (tokens) of this step. */
export type GpuOp = (pass: GPUComputePassEncoder, rows: number) => void;

const usage = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

/** A zeroed storage buffer of `bytes` (rounded up to 16). */
export function storageBuffer(gpu: Gpu, bytes: number, label: string): GPUBuffer {
  return gpu.device.createBuffer({
    label,
    size: Math.max(16, Math.ceil(bytes / 16) * 16),
    usage: usage(),
  });
}

/** A storage buffer holding a copy of `data` (its bytes, padded to 16). */
export function uploadBuffer(gpu: Gpu, data: ArrayBufferView, label: string): GPUBuffer {
  const buffer = gpu.device.createBuffer({
    label,
    size: Math.max(16, Math.ceil(data.byteLength / 16) * 16),
    usage: usage(),
    mappedAtCreation: true,
  });
  new Uint8Array(buffer.getMappedRange()).set(
    new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  );
  buffer.unmap();
  return buffer;
}

/** Records `encode` in one compute pass, submits it, waits, and throws the first validation error. */
export async function submit(
  gpu: Gpu,
  encode: (pass: GPUComputePassEncoder) => void,
  after?: (enc: GPUCommandEncoder) => void,
): Promise<void> {
  const { device } = gpu;
  device.pushErrorScope('validation');
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  encode(pass);
  pass.end();
  after?.(enc);
  device.queue.submit([enc.finish()]);
  const error = await device.popErrorScope();
  if (error) throw new GpuKernelError(`WebGPU validation: ${error.message}`);
  await device.queue.onSubmittedWorkDone();
}

/** Copies `bytes` of `buffer` from `offset` back to the host. */
export async function readBuffer(
  gpu: Gpu,
  buffer: GPUBuffer,
  bytes: number = buffer.size,
  offset = 0,
): Promise<ArrayBuffer> {
  const staging = gpu.device.createBuffer({
    size: Math.ceil(bytes / 4) * 4,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const enc = gpu.device.createCommandEncoder();
  enc.copyBufferToBuffer(buffer, offset, staging, 0, staging.size);
  gpu.device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0, bytes);
  staging.destroy();
  return out;
}
