// One script for a lent GPU machine: the whole WebGPU conformance table (NMSE vs the DeepSeek
// reference), greedy parity of the WebGPU DeepSeek backend with the reference model, then the
// GPU benchmark. Prints markdown; exits non-zero if any check fails.
//   tsx bench/gpu-device-check.ts [--quick]
// Bundled (one file to carry to a bare GPU machine), call runDeviceCheck() from an importing script:
// every module's `import.meta.url` is the bundle's, so the standalone guards must not fire there.
import { pathToFileURL } from 'node:url';
import { argmax } from '../engine/deepseek/ops';
import { nmse } from '../tests/ops/nmse';
import { DeepSeekReferenceModel } from '../engine/deepseek/reference';
import { generateSyntheticDeepSeek } from '../engine/deepseek/synthetic';
import { loadDeepSeekModel } from '../engine/deepseek/weights';
import { GpuDeepSeekBackend } from '../kernels-gpu/deepseek-backend';
import { describeGpu, requestGpu, type Gpu } from '../kernels-gpu/device';
import { submit } from '../kernels-gpu/kernel';
import { gpuCases } from '../tests/kernels-gpu/cases';
import { benchGpu } from './gpu';

async function conformance(gpu: Gpu): Promise<{ rows: string[]; failed: number }> {
  const rows = ['| case | output | NMSE | tolerance | ok |', '| --- | --- | ---: | ---: | --- |'];
  let failed = 0;
  for (const c of gpuCases.filter((x) => x.test)) {
    try {
      const prepared = await c.prepare(gpu);
      await submit(gpu, prepared.encode);
      const got = await prepared.read();
      for (const [name, ref] of Object.entries(prepared.reference())) {
        const out = Array.from(got[name]);
        const e = out.every(Number.isFinite) ? nmse(out, ref) : Infinity;
        const ok = e <= c.nmse;
        if (!ok) failed++;
        rows.push(
          `| ${c.name} | ${name} | ${e.toExponential(1)} | ${c.nmse.toExponential(0)} | ${ok ? 'yes' : '**NO**'} |`,
        );
      }
    } catch (err) {
      failed++;
      rows.push(
        `| ${c.name} | - | error: ${(err as Error).message.slice(0, 120)} | ${c.nmse.toExponential(0)} | **NO** |`,
      );
    }
  }
  return { rows, failed };
}

async function parity(gpu: Gpu): Promise<{ line: string; ok: boolean }> {
  const files = generateSyntheticDeepSeek({ seed: 7 });
  const weights = loadDeepSeekModel(files, { gemm: 'dequantized' });
  const prompt = [0, 7, 7, 7, 300, 12, 511, 64, 1];
  const steps = 16;
  const want = new DeepSeekReferenceModel(weights, { maxSeqLen: 64 }).generateGreedy(prompt, steps);
  const backend = await GpuDeepSeekBackend.create(loadDeepSeekModel(files, { gemm: 'fp8' }), {
    gpu,
    activations: 'f32',
    maxSlots: 1,
    maxSeqLen: 64,
    maxStepTokens: 16,
    pageSize: 4,
  });
  const slot = backend.allocate()!;
  let [logits] = await backend.step([{ slot, tokens: prompt, startPos: 0, wantLogits: true }]);
  const got: number[] = [];
  for (let pos = prompt.length; got.length < steps; pos++) {
    got.push(argmax(logits));
    if (got.length < steps)
      [logits] = await backend.step([
        { slot, tokens: [got[got.length - 1]], startPos: pos, wantLogits: true },
      ]);
  }
  backend.destroy();
  const ok = JSON.stringify(got) === JSON.stringify(want);
  return {
    ok,
    line: `Greedy parity, weight-only FP8 backend vs reference (dequantized), ${steps} steps: ${ok ? 'identical' : `DIFFERENT\n  gpu ${got}\n  ref ${want}`}`,
  };
}

/** Runs everything and returns the exit code (0: every check passed). */
export async function runDeviceCheck(quick = process.argv.includes('--quick')): Promise<number> {
  const gpu = await requestGpu({ powerPreference: 'high-performance' });
  console.log(`# WebGPU device check on ${describeGpu(gpu)}\n`);
  const conf = await conformance(gpu);
  console.log(`## Conformance (${conf.failed} failed)\n\n${conf.rows.join('\n')}\n`);
  const par = await parity(gpu);
  console.log(`## Backend parity\n\n${par.line}\n`);
  console.log(`## Benchmark\n\n${await benchGpu({ quick, log: (l) => console.error(l) })}`);
  return conf.failed === 0 && par.ok ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runDeviceCheck().then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(2);
    },
  );
}
