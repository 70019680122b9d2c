// Parity of the WASM DeepSeek forward (engine/deepseek/wasm-model.ts) with the float64 reference on the
// synthetic FP8 checkpoint: logits, 64 greedy tokens, batch = token by token, the scalar-twin kernels, and
// which of the reference's two GEMM modes the WASM path computes.
import { describe, expect, it } from 'vitest';
import { nmse } from '../../ops/nmse';
import { DeepSeekReferenceModel } from '../../../engine/deepseek/reference';
import { generateSyntheticDeepSeek } from '../../../engine/deepseek/synthetic';
import { WasmDeepSeekModel } from '../../../engine/deepseek/wasm-model';
import { loadDeepSeekModel } from '../../../engine/deepseek/weights';
import { loadKernelsModule } from '../../../kernels-wasm/node';

const files = generateSyntheticDeepSeek({ seed: 1 }); // the example shape: 4 layers (1 dense), 16 experts top-4
const prompt = [0, 17, 300, 42, 9, 511, 128];
const module = await loadKernelsModule();
const wasm = (opts: { maxSeqLen: number; kernels?: 'simd' | 'scalar' }, f = files) =>
  WasmDeepSeekModel.load(module, f, opts);

describe('WASM DeepSeek-V3 forward vs the float64 reference', () => {
  it('keeps FP8 projections in FP8 (1 byte per weight) in WASM memory', async () => {
    const m = await wasm({ maxSeqLen: 8 });
    const fp8 = m.weights.layers[1].moe!.experts[3].down;
    expect(fp8.kind).toBe('fp8');
    expect(m.weights.lmHead.kind).toBe('bf16'); // kept as the file ships it (2 bytes per weight)
    expect(m.weights.bytes).toBeLessThan(files['model.safetensors'].byteLength); // BF16 tensors widen, FP8 ones don't
  });

  it('prefill logits match the dequantized reference (NMSE < 1e-10)', async () => {
    const ref = Float64Array.from(
      new DeepSeekReferenceModel(loadDeepSeekModel(files), { maxSeqLen: 16 }).forward(prompt, 0),
    );
    const got = (await wasm({ maxSeqLen: 16 })).forward(prompt, 0);
    expect(nmse(got, ref)).toBeLessThan(1e-10); // measured 2.6e-13: f32 vs f64 arithmetic only
  });

  it('greedy decoding gives the reference tokens over 64 steps, on the SIMD kernels and on their scalar twins', async () => {
    const want = new DeepSeekReferenceModel(loadDeepSeekModel(files), {
      maxSeqLen: 80,
    }).generateGreedy(prompt, 64);
    expect((await wasm({ maxSeqLen: 80 })).generateGreedy(prompt, 64)).toEqual(want);
    expect((await wasm({ maxSeqLen: 80, kernels: 'scalar' })).generateGreedy(prompt, 64)).toEqual(
      want,
    );
  });

  it('a batched forward (FP8 matmuls, MoE dispatch over 7 tokens) equals token-by-token decoding', async () => {
    const V = 512;
    const batch = Float32Array.from((await wasm({ maxSeqLen: 16 })).forward(prompt, 0));
    const one = await wasm({ maxSeqLen: 16 });
    prompt.forEach((tok, pos) =>
      expect(nmse(one.forward([tok], pos), batch.subarray(pos * V, (pos + 1) * V))).toBeLessThan(
        1e-11,
      ),
    );
  });

  it("computes the reference's 'dequantized' GEMM mode, not its 'fp8' one (1×128 FP8 activations)", async () => {
    const deq = Float64Array.from(
      new DeepSeekReferenceModel(loadDeepSeekModel(files), { maxSeqLen: 16 }).forward(prompt, 0),
    );
    const fp8 = Float64Array.from(
      new DeepSeekReferenceModel(loadDeepSeekModel(files, { gemm: 'fp8' }), {
        maxSeqLen: 16,
      }).forward(prompt, 0),
    );
    const got = (await wasm({ maxSeqLen: 16 })).forward(prompt, 0);
    // Measured 0.026 for both: the 'fp8' mode's activation rounding, compounded through 4 chaotic layers.
    expect(nmse(got, fp8)).toBeGreaterThan(1e-3);
    expect(nmse(got, fp8) / nmse(deq, fp8)).toBeCloseTo(1, 3);
  });

  it('runs an unquantized checkpoint with a plain q_proj and greedy tokens match', async () => {
    const small = generateSyntheticDeepSeek({
      config: {
        qLoraRank: null,
        quantization: null,
        numHiddenLayers: 2,
        nRoutedExperts: 4,
        nGroup: 2,
        topkGroup: 1,
        numExpertsPerTok: 2,
      },
    });
    const want = new DeepSeekReferenceModel(loadDeepSeekModel(small), {
      maxSeqLen: 40,
    }).generateGreedy([3, 4, 5], 32);
    const m = await wasm({ maxSeqLen: 40 }, small);
    expect(m.weights.layers[0].mla.q!.kind).toBe('f32');
    expect(m.generateGreedy([3, 4, 5], 32)).toEqual(want);
  });

  it('one step over several slots (a prefill chunk beside decode tokens) gives each its own run', async () => {
    const V = 512,
      other = [5, 6, 7, 8, 9];
    const m = await WasmDeepSeekModel.load(module, files, { maxSeqLen: 16, maxSlots: 3 });
    const alone = [prompt, other].map((p) => Float32Array.from(m.forward(p, 0, 2)).slice(-V));
    m.step([{ slot: 1, tokens: other.slice(0, 4), startPos: 0, wantLogits: false }]);
    const [a, b] = m.step([
      { slot: 0, tokens: prompt, startPos: 0, wantLogits: true },
      { slot: 1, tokens: other.slice(4), startPos: 4, wantLogits: true },
    ]);
    expect(nmse(a, alone[0])).toBeLessThan(1e-11);
    expect(nmse(b, alone[1])).toBeLessThan(1e-11);
    expect(() => m.step([{ slot: 3, tokens: [1], startPos: 0, wantLogits: true }])).toThrow(
      /slot 3/,
    );
  });

  it('rejects positions past maxSeqLen and ids outside the vocab', async () => {
    const m = await wasm({ maxSeqLen: 4 });
    expect(() => m.forward([1, 2], 3)).toThrow(RangeError);
    expect(() => m.forward([512], 0)).toThrow(/outside vocab/);
  });
});
