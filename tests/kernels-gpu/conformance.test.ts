// Every case of the GPU conformance table on the WebGPU device (lavapipe in CI): outputs finite and within
// the case's NMSE of the engine/deepseek reference. Skipped, with the reason printed, without an adapter
// on a developer's machine; under CI a missing adapter fails (see gpu.ts).
import { afterAll, describe, expect, it } from 'vitest';
import { submit } from '../../kernels-gpu/kernel';
import { nmse } from '../ops/nmse';
import { gpuCases } from './cases';
import { describeGpu, probeGpu } from './gpu';

const { gpu } = await probeGpu();
if (gpu) console.log(`WebGPU conformance on ${describeGpu(gpu)}`);
const measured: string[] = [];
afterAll(() => {
  if (measured.length) console.log(`case | output | NMSE | tolerance\n${measured.join('\n')}`);
});

describe.skipIf(!gpu)('WebGPU kernels vs the DeepSeek reference', () => {
  it.each(gpuCases.filter((c) => c.test).map((c) => [c.name, c] as const))(
    '%s',
    async (_name, c) => {
      const prepared = await c.prepare(gpu!);
      await submit(gpu!, prepared.encode);
      const got = await prepared.read();
      const want = prepared.reference();
      for (const [name, ref] of Object.entries(want)) {
        const out = got[name];
        expect(Array.from(out).every(Number.isFinite), `${name} finite`).toBe(true);
        const e = nmse(out, ref);
        measured.push(`${c.name} | ${name} | ${e.toExponential(1)} | ${c.nmse.toExponential(0)}`);
        expect(e, `${name} NMSE ${e.toExponential(2)} vs reference`).toBeLessThanOrEqual(c.nmse);
      }
    },
  );
});
