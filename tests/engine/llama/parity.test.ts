// The forward pass on the wasm-simd backend against the plain-TS one, on a synthetic model of the
// stories15M shape (real benchmark shapes, beyond what the 260K goldens exercise).
import { expect, it } from 'vitest';
import {
  allocSession,
  forward,
  parseLlama2cCheckpoint,
  STORIES15M_SHAPE,
  syntheticLlama2cCheckpoint,
  uploadWeights,
} from '../../../engine/index';
import { createTsKernels } from '../../../kernels-wasm/index';
import { createNodeKernels } from '../../../kernels-wasm/node';
import type { KernelBackend } from '../../../kernels-wasm/types';
import { nmse } from '../../ops/nmse';

async function logitsPerPosition(backend: KernelBackend, tokens: number[]) {
  const { config, weights } = parseLlama2cCheckpoint(
    syntheticLlama2cCheckpoint({ ...STORIES15M_SHAPE, seqLen: 16 }, 3),
  );
  const device = uploadWeights(backend, weights);
  const session = allocSession(backend, config);
  return tokens.map((token, pos) =>
    backend.f32(forward(backend, config, device, session, token, pos), config.vocabSize).slice(),
  );
}

it('wasm-simd and ts backends give the same logits on the stories15M shape', async () => {
  const tokens = [1, 500, 9000, 31999, 42, 42];
  const [simd, ts] = await Promise.all([
    logitsPerPosition(await createNodeKernels(), tokens),
    logitsPerPosition(createTsKernels(), tokens),
  ]);
  for (let p = 0; p < tokens.length; p++) {
    expect(ts[p].some((v) => v !== 0)).toBe(true);
    expect(nmse(simd[p], ts[p])).toBeLessThan(1e-10);
  }
});
