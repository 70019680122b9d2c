// One WebGPU device per process through Dawn's Node binding (npm `webgpu`). The object `create()` returns
// must stay reachable for as long as any device lives, or the process segfaults under GC churn
// (../shared/notes/webgpu-on-cpu.md): it is held in a module-level variable and never dropped.
import { setUpDriverEnvironment } from './driver';

export class GpuUnavailableError extends Error {
  override name = 'GpuUnavailableError';
}

export interface GpuAdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  /** Smallest subgroup the adapter may use (0 when it does not say). */
  subgroupMinSize: number;
}

export interface Gpu {
  device: GPUDevice;
  adapter: GpuAdapterSummary;
  /** Features enabled on the device (shader-f16, subgroups, timestamp-query where offered). */
  features: ReadonlySet<string>;
}

export interface GpuOptions {
  /** 'high-performance' (default) picks a discrete GPU over an integrated or software one. */
  powerPreference?: GPUPowerPreference;
  /** Extra Dawn toggles for `create()`, e.g. 'disable-dawn-features=timestamp_quantization'. */
  dawnFlags?: string[];
  /**
   * 'vulkan' (default) or 'opengles': Dawn's GLES backend at the compatibility feature level, for machines
   * whose Vulkan driver is unusable (e.g. NVIDIA without the nvidia-modeset module). Env WEBGPU_BACKEND overrides.
   */
  backend?: 'vulkan' | 'opengles';
}

// Strong references for the life of the process (see the header).
let gpuFactory: GPU | undefined;
let shared: Promise<Gpu> | undefined;

const wanted: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];

async function open(opts: GpuOptions): Promise<Gpu> {
  const driver = setUpDriverEnvironment();
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals); // GPUBufferUsage, GPUMapMode, ... as in a browser
  const gles = (process.env.WEBGPU_BACKEND ?? opts.backend) === 'opengles';
  gpuFactory ??= create([...(gles ? ['backend=opengles'] : []), ...(opts.dawnFlags ?? [])]);
  const adapter = await gpuFactory.requestAdapter({
    powerPreference: opts.powerPreference ?? 'high-performance',
    ...(gles ? { featureLevel: 'compatibility' } : {}),
  });
  if (!adapter) {
    throw new GpuUnavailableError(
      `WebGPU: no adapter (Dawn found no usable Vulkan driver). ${driver.notes.join('; ')}`,
    );
  }
  const l = adapter.limits;
  const features = wanted.filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({
    requiredFeatures: features,
    requiredLimits: {
      // The defaults (128 MiB / 256 MiB, 8 buffers) are below what lavapipe and real GPUs offer.
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    },
  });
  const info = adapter.info;
  return {
    device,
    adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      // Older @webgpu/types have it on the adapter, newer on its info.
      isFallbackAdapter: Boolean(
        (info as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
        (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter,
      ),
      subgroupMinSize: (info as { subgroupMinSize?: number }).subgroupMinSize ?? 0,
    },
    features: new Set(features),
  };
}

/**
 * The process's shared device (created on first call). Throws GpuUnavailableError with the reason when
 * there is no adapter; a failed attempt is not cached, so a later call tries again.
 */
export function requestGpu(opts: GpuOptions = {}): Promise<Gpu> {
  shared ??= open(opts).catch((err) => {
    shared = undefined;
    throw err;
  });
  return shared;
}

/** One line for logs and reports: "llvmpipe (mesa, software) fallback". */
export function describeGpu(gpu: Gpu): string {
  const a = gpu.adapter;
  const name = a.description || a.device || 'unknown adapter';
  return `${name} (${[a.vendor, a.architecture].filter(Boolean).join(', ')})${a.isFallbackAdapter ? ' fallback' : ''}`;
}
