// Which backend `--backend` means on this machine. 'cpu' is the CPU backend (cpu-backend.ts; 'reference',
// its old name, is accepted by options.ts as an alias); 'webgpu' needs a WebGPU adapter and fails at startup, with the reason, when there is none; 'auto' (the default) takes
// WebGPU only on a real GPU: a software adapter (Mesa's lavapipe, SwiftShader) is slower than the CPU
// backend on the same cores, so there it keeps the CPU backend.
import { describeGpu, requestGpu, type Gpu } from '../../kernels-gpu/device';

export type BackendChoice = 'auto' | 'cpu' | 'webgpu';

/** A backend that cannot start here: main.ts prints the message alone and exits with 1. */
export class StartupError extends Error {
  override name = 'StartupError';
}

export type SelectedBackend =
  | { kind: 'cpu'; /** why, when auto passed WebGPU over */ note?: string }
  | { kind: 'webgpu'; gpu: Gpu };

/** Resolves the choice; `probe` finds the device (tests pass their own). */
export async function selectBackend(
  choice: BackendChoice,
  probe: () => Promise<Gpu> = requestGpu,
): Promise<SelectedBackend> {
  if (choice === 'cpu') return { kind: 'cpu' };
  let gpu: Gpu;
  try {
    gpu = await probe();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (choice === 'auto') return { kind: 'cpu', note: `no WebGPU adapter: ${reason}` };
    throw new StartupError(
      `--backend webgpu: ${reason.replace(/\.$/, '')}. Without a WebGPU adapter, use --backend cpu.`,
    );
  }
  if (choice === 'auto' && gpu.adapter.isFallbackAdapter) {
    return {
      kind: 'cpu',
      note: `the WebGPU adapter is a software fallback (${describeGpu(gpu)}); --backend webgpu uses it anyway`,
    };
  }
  return { kind: 'webgpu', gpu };
}
