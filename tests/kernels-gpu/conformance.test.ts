// The one table (tests/ops/table.ts) on the WebGPU device (lavapipe in CI): every case with a WGSL kernel,
// outputs finite and within the case's NMSE of the engine/deepseek reference; each measured NMSE printed.
// Skipped, with the reason printed, without an adapter on a developer's machine; under CI a missing adapter
// fails (see gpu.ts).
import { describeGpu } from '../../kernels-gpu/device';
import { webgpuBackend } from '../ops/backends';
import { conformance } from '../ops/suite';
import { table } from '../ops/table';
import { probeGpu } from './gpu';

const { gpu } = await probeGpu();
if (gpu) console.log(`WebGPU conformance on ${describeGpu(gpu)}`);

await conformance([webgpuBackend], table, { log: true });
