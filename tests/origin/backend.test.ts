// The reference step backend against the DeepSeek reference model: a batched step (prefill chunks of
// some sequences beside decode tokens of others) gives every sequence bit-for-bit the logits it gets
// alone; saved KV rows restored into another slot continue identically; the wasm kernels equal the
// reference functions they replace, on ragged shapes and odd token counts.
import { describe, expect, it } from 'vitest';
import { E4M3_VALUES, quantizeWeightFp8 } from '../../engine/formats/fp8';
import { quantizeActivationsFp8 } from '../../engine/deepseek/fp8';
import { linear, createLinearScratch, type Linear } from '../../engine/deepseek/linear';
import { DeepSeekReferenceModel } from '../../engine/deepseek/reference';
import { BatchedLinear, uploadLinear } from '../../origin/backend/batched-linear';
import { ReferenceBackend } from '../../origin/backend/reference-backend';
import type { StepSequence } from '../../origin/backend/step-backend';
import { WasmArena } from '../../origin/backend/wasm-arena';
import { instantiateBatchKernels } from '../../origin/kernels/wasm';
import { syntheticWeights } from './reference-text';

const bits = (a: ArrayLike<number>) => Array.from(a, (v) => (Object.is(v, -0) ? '-0' : String(v)));

describe.each(['fp8', 'dequantized'] as const)('reference backend (%s projections)', (gemm) => {
  const weights = syntheticWeights('tiny', gemm);
  const V = weights.config.vocabSize;
  const prompts = [
    Array.from({ length: 70 }, (_, i) => (i * 37 + 11) % V),
    [0, 100, 101, 102],
    Array.from({ length: 9 }, (_, i) => (i * 5 + 300) % V),
  ];

  /** Logits of each position of each prompt, one sequence at a time. */
  const expected = prompts.map((p) => {
    const ref = new DeepSeekReferenceModel(weights, { maxSeqLen: 256, maxBatch: 128 });
    const logits = ref.forward(p, 0);
    return p.map((_, t) => logits.slice(t * V, (t + 1) * V));
  });

  it('gives each sequence of a mixed step exactly its unbatched logits', async () => {
    const backend = await ReferenceBackend.create(weights, {
      maxSlots: 4,
      maxSeqLen: 256,
      maxStepTokens: 64,
    });
    const slots = prompts.map(() => backend.allocate()!);
    const pos = prompts.map(() => 0);
    // Each step: sequence 0 prefills a chunk of 16, the others feed one token (decode-like).
    while (pos.some((p, i) => p < prompts[i].length)) {
      const batch: StepSequence[] = [];
      const owners: [number, number][] = [];
      prompts.forEach((p, i) => {
        const n = Math.min(i === 0 ? 16 : 1, p.length - pos[i]);
        if (n === 0) return;
        batch.push({
          slot: slots[i],
          tokens: p.slice(pos[i], pos[i] + n),
          startPos: pos[i],
          wantLogits: true,
        });
        owners.push([i, pos[i] + n - 1]);
        pos[i] += n;
      });
      const logits = await backend.step(batch);
      owners.forEach(([i, at], k) => expect(bits(logits[k])).toEqual(bits(expected[i][at])));
    }
  });

  it('continues identically from KV rows restored into another slot', async () => {
    const backend = await ReferenceBackend.create(weights, {
      maxSlots: 2,
      maxSeqLen: 256,
      maxStepTokens: 128,
    });
    const [a, b] = [backend.allocate()!, backend.allocate()!];
    const p = prompts[0];
    await backend.step([{ slot: a, tokens: p.slice(0, 64), startPos: 0, wantLogits: false }]);
    backend.restoreKv(b, 0, backend.saveKv(a, 0, 64));
    const [logits] = await backend.step([
      { slot: b, tokens: p.slice(64), startPos: 64, wantLogits: true },
    ]);
    expect(bits(logits)).toEqual(bits(expected[0][p.length - 1]));
  });
});

describe('origin wasm kernels', () => {
  const random = (n: number, seed: number) => {
    let s = seed;
    return Float64Array.from(
      { length: n },
      () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5) * 4,
    );
  };

  it.each([1, 2, 3, 5, 8, 12, 17, 29])(
    'projections of %i tokens equal linear() token by token (ragged FP8 blocks)',
    async (T) => {
      const rows = 37,
        cols = 200; // neither a multiple of the 128×128 block nor of the SIMD widths
      const w = Float32Array.from(random(rows * cols, 7));
      const lins: Linear[] = [
        { kind: 'f32', rows, cols, w },
        { kind: 'fp8', rows, cols, weight: quantizeWeightFp8(w, rows, cols), block: [128, 128] },
      ];
      const xs = random(T * cols, T);
      const arena = new WasmArena();
      const lin = new BatchedLinear(arena, 32, cols, rows);
      const x = arena.alloc(T * cols * 8, xs),
        out = arena.alloc(T * rows * 8);
      const input = lin.input(x, 32, cols);
      const uploaded = lins.map((l) => uploadLinear(arena, l));
      lin.attach(await instantiateBatchKernels(arena.finish()));
      lins.forEach((l, i) => {
        lin.run(out, uploaded[i], input.reset(T, cols));
        const got = arena.f64(out, T * rows),
          scratch = createLinearScratch(cols, rows);
        for (let t = 0; t < T; t++) {
          const want = new Float64Array(rows);
          linear(want, l, xs.subarray(t * cols, (t + 1) * cols), scratch);
          expect(bits(got.subarray(t * rows, (t + 1) * rows)), `${l.kind} token ${t}`).toEqual(
            bits(want),
          );
        }
      });
    },
  );

  it('quantizes activations to FP8 exactly as fp8.ts: every code, every rounding boundary, odd scales', async () => {
    // Blocks led by 448 have scale 1, so the rest are rounded as given: every finite E4M3 value, the
    // midpoint between each pair of neighbours (a tie) and the f32 values just either side of it.
    const grid = [
      ...new Set(Array.from(E4M3_VALUES).filter((v) => Number.isFinite(v) && v >= 0)),
    ].sort((a, b) => a - b);
    const probes: number[] = [...grid, -0];
    for (let i = 1; i < grid.length; i++) {
      const mid = (grid[i - 1] + grid[i]) / 2;
      probes.push(mid, -mid, Math.fround(mid * (1 + 2 ** -20)), Math.fround(mid * (1 - 2 ** -20)));
    }
    const values: number[] = [];
    for (let i = 0; i < probes.length; i += 127) {
      const part = probes.slice(i, i + 127);
      values.push(448, ...part, ...new Array(127 - part.length).fill(0));
    }
    // Then blocks whose scale is not a power of two, with values across many magnitudes.
    values.push(...random(128 * 16, 3).map((v, i) => v * 10 ** ((i % 13) - 6)));
    const n = values.length,
      blocks = n / 128;
    const arena = new WasmArena();
    const x = arena.alloc(n * 8, Float64Array.from(values)),
      xd = arena.alloc(n * 4),
      xs = arena.alloc(blocks * 4);
    const k = await instantiateBatchKernels(arena.finish());
    k.quantizeFp8(xd, xs, x, blocks, 128, 128);
    const ref = quantizeActivationsFp8(Float64Array.from(values), blocks, 128, 128);
    expect(bits(arena.f32(xs, blocks))).toEqual(bits(ref.scale));
    expect(bits(arena.f32(xd, n))).toEqual(bits(Array.from(ref.q, (q) => E4M3_VALUES[q])));
  });
});
