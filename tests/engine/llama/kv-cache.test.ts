// The int8 KV cache (engine/llama/kv-cache.ts) against the f32 one on the same model: logits of every
// step close (int8's rounding only), a prompt-cache round trip through it, the bytes it saves, and
// which format a model gets by default.
import { describe, expect, it } from 'vitest';
import {
  allocSession,
  forward,
  LlamaModel,
  syntheticLlama2cCheckpoint,
  syntheticLlama2cTokenizer,
} from '../../../engine/index';
import { kvBytesPerPosition } from '../../../engine/llama/kv-cache';
import { readKvRows, writeKvRows } from '../../../engine/prompt-cache/kv-rows';
import { createTsKernels } from '../../../kernels-wasm/index';
import { createNodeKernels } from '../../../kernels-wasm/node';
import type { KernelBackend } from '../../../kernels-wasm/types';
import { nmse } from '../../ops/nmse';

const SHAPE = {
  dim: 96,
  hiddenDim: 256,
  nLayers: 2,
  nHeads: 6,
  nKvHeads: 2,
  vocabSize: 320,
  seqLen: 160,
};

async function model(seqLen = SHAPE.seqLen, backend?: KernelBackend) {
  const shape = { ...SHAPE, seqLen };
  return LlamaModel.fromLlama2c(
    backend ?? (await createNodeKernels()),
    syntheticLlama2cCheckpoint(shape, 5),
    syntheticLlama2cTokenizer(shape.vocabSize),
  );
}

function internals(m: LlamaModel) {
  return m as unknown as { backend: KernelBackend; weights: Parameters<typeof forward>[2] };
}

describe('int8 KV cache', () => {
  it('gives the f32 cache logits within int8 rounding at every one of 150 positions', async () => {
    const m = await model();
    const { backend: k, weights: w } = internals(m);
    const c = m.config;
    const [a, b] = [allocSession(k, c, 'f32'), allocSession(k, c, 'int8')];
    let worst = 0;
    for (let pos = 0; pos < 150; pos++) {
      const token = (pos * 53 + 7) % c.vocabSize;
      const la = k.f32(forward(k, c, w, a, token, pos), c.vocabSize).slice();
      const lb = k.f32(forward(k, c, w, b, token, pos), c.vocabSize).slice();
      worst = Math.max(worst, nmse(lb, la));
    }
    expect(worst).toBeGreaterThan(0); // it is int8: not the same bits
    expect(worst).toBeLessThan(1e-4);
  });

  it('round-trips prompt-cache rows: read, written into a fresh session, read again', async () => {
    const m = await model();
    const { backend: k, weights: w } = internals(m);
    const c = m.config;
    const s = allocSession(k, c, 'int8');
    for (let pos = 0; pos < 40; pos++)
      forward(k, c, w, s, (pos * 31 + 3) % c.vocabSize, pos, false);
    const rows = readKvRows(k, c, s, 8, 30);
    const fresh = allocSession(k, c, 'int8');
    writeKvRows(k, c, fresh, rows);
    const again = readKvRows(k, c, fresh, 8, 30);
    expect(nmse(again.keys, rows.keys)).toBeLessThan(1e-12);
    expect(nmse(again.values, rows.values)).toBeLessThan(1e-12);
    expect(rows.keys.some((v) => v !== 0)).toBe(true);
  });

  it('takes a quarter of the f32 bytes plus one scale per head', async () => {
    const c = (await model()).config;
    const f32 = kvBytesPerPosition(c, 'f32'),
      int8 = kvBytesPerPosition(c, 'int8');
    expect(f32).toBe(c.nLayers * 2 * c.nKvHeads * c.headDim * 4);
    expect(int8).toBe(c.nLayers * 2 * (c.nKvHeads * c.headDim + 4 * c.nKvHeads));
    const k = await createNodeKernels();
    const before = k.bytesUsed;
    allocSession(k, c, 'int8');
    const int8Session = k.bytesUsed - before;
    allocSession(k, c, 'f32');
    const f32Session = k.bytesUsed - before - int8Session;
    expect(f32Session - int8Session).toBeGreaterThanOrEqual(c.seqLen * (f32 - int8) - 512); // less its staging rows
  });

  it('is the default on the WASM backend for contexts over 1024 only, never on ts', async () => {
    expect((await model(1024)).kvFormat).toBe('f32');
    expect((await model(2048)).kvFormat).toBe('int8');
    expect((await model(2048, createTsKernels())).kvFormat).toBe('f32');
  });

  it('generates with a 2048-position int8 cache past position 1024', async () => {
    const m = await model(2048);
    const prompt = Array.from({ length: 1100 }, (_, i) => (i === 0 ? 1 : 3 + ((i * 17) % 300)));
    const ids: number[] = [];
    for await (const t of m.generate(prompt, {
      maxTokens: 4,
      temperature: 0,
      topP: 1,
      stopAtEos: false,
    }))
      ids.push(t.id);
    expect(ids).toHaveLength(4);
    expect(ids.every((id) => id >= 0 && id < SHAPE.vocabSize)).toBe(true);
  });
});
