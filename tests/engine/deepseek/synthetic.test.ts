import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../../../engine/formats/safetensors';
import { deepSeekConfigToJson, parseDeepSeekConfig } from '../../../engine/deepseek/config';
import { deepSeekTensorSpecs } from '../../../engine/deepseek/hf-names';
import { argmax } from '../../../engine/deepseek/ops';
import { nmse } from '../../ops/nmse';
import { DeepSeekReferenceModel } from '../../../engine/deepseek/reference';
import {
  SYNTHETIC_DEEPSEEK_CONFIG,
  generateSyntheticDeepSeek,
} from '../../../engine/deepseek/synthetic';
import { DeepSeekLoadError, loadDeepSeekModel } from '../../../engine/deepseek/weights';

const files = generateSyntheticDeepSeek({ seed: 1 }); // the example shape, ≈ 9 MB
const prompt = [0, 17, 300, 42, 9, 511, 128];

describe('synthetic DeepSeek-V3 checkpoint', () => {
  it('writes the HF layout: FP8 projections with 128×128 weight_scale_inv, BF16 norms/router/embeddings, F32 bias', () => {
    const config = parseDeepSeekConfig(JSON.parse(new TextDecoder().decode(files['config.json'])));
    expect(deepSeekConfigToJson(config)).toMatchObject({
      model_type: 'deepseek_v3',
      n_group: 4,
      topk_group: 2,
      q_lora_rank: 96,
    });
    const { tensors } = readSafetensors(files['model.safetensors']);
    const specs = deepSeekTensorSpecs(config);
    for (const s of specs) {
      const t = tensors.get(s.name)!;
      expect(t?.shape, s.name).toEqual(s.shape);
      const want = { linear: 'F8_E4M3', 'router-bias': 'F32' }[s.role as string] ?? 'BF16';
      expect(t.dtype, s.name).toBe(want);
      if (s.role === 'linear')
        expect(tensors.get(`${s.name}_scale_inv`)!.shape).toEqual(
          s.shape.map((n) => Math.ceil(n / 128)),
        );
    }
    const linears = specs.filter((s) => s.role === 'linear').length;
    expect(tensors.size).toBe(specs.length + linears);
    expect(tensors.has('model.layers.0.mlp.gate_proj.weight')).toBe(true); // first_k_dense_replace = 1
    expect(tensors.has('model.layers.1.mlp.experts.15.down_proj.weight')).toBe(true);
    expect(tensors.has('model.layers.4.eh_proj.weight')).toBe(true); // MTP = layer num_hidden_layers
    expect(tensors.get('model.layers.1.self_attn.q_b_proj.weight_scale_inv')!.shape).toEqual([
      3, 1,
    ]); // 384×96: ragged
  });

  it('is deterministic in the seed', () => {
    const gen = (seed: number) =>
      generateSyntheticDeepSeek({ seed, config: { numHiddenLayers: 1, numNextnPredictLayers: 0 } })[
        'model.safetensors'
      ];
    const same = (a: Uint8Array, b: Uint8Array) =>
      a.length === b.length && a.every((x, i) => x === b[i]);
    expect(same(gen(2), gen(2))).toBe(true);
    expect(same(gen(2), gen(3))).toBe(false);
  });

  it('loads and runs; absorbed and naive attention agree (max |Δlogit| < 1e-9) with identical greedy tokens', () => {
    const w = loadDeepSeekModel(files);
    const absorbed = new DeepSeekReferenceModel(w, { maxSeqLen: 64 });
    const naive = new DeepSeekReferenceModel(w, { maxSeqLen: 64, attention: 'naive' });
    const la = Float64Array.from(absorbed.forward(prompt, 0));
    const ln = naive.forward(prompt, 0);
    let diff = 0;
    for (let i = 0; i < la.length; i++) diff = Math.max(diff, Math.abs(la[i] - ln[i]));
    expect(diff).toBeLessThan(1e-9); // measured ≈ 1e-14
    expect(new DeepSeekReferenceModel(w, { maxSeqLen: 64 }).generateGreedy(prompt, 12)).toEqual(
      new DeepSeekReferenceModel(w, { maxSeqLen: 64, attention: 'naive' }).generateGreedy(
        prompt,
        12,
      ),
    );
  });

  it('a batched forward equals token-by-token decoding bit for bit', () => {
    const w = loadDeepSeekModel(files);
    const batch = Float64Array.from(
      new DeepSeekReferenceModel(w, { maxSeqLen: 16 }).forward(prompt, 0),
    );
    const one = new DeepSeekReferenceModel(w, { maxSeqLen: 16 });
    const V = w.config.vocabSize;
    prompt.forEach((tok, pos) =>
      expect(one.forward([tok], pos)).toEqual(batch.subarray(pos * V, (pos + 1) * V)),
    );
  });

  it('the FP8 GEMM path (1×128 activation quantization) stays close to the dequantized one', () => {
    const ref = Float64Array.from(
      new DeepSeekReferenceModel(loadDeepSeekModel(files), { maxSeqLen: 16 }).forward(prompt, 0),
    );
    const fp8 = new DeepSeekReferenceModel(loadDeepSeekModel(files, { gemm: 'fp8' }), {
      maxSeqLen: 16,
    }).forward(prompt, 0);
    // Measured 0.025: ≈1e-3 per FP8 GEMM, compounded through 4 layers of an untrained (chaotic) model.
    expect(nmse(fp8, ref)).toBeLessThan(0.05);
  });

  it('runs a plain-q_proj, unquantized variant, and names a missing tensor', () => {
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
    expect(
      readSafetensors(small['model.safetensors']).tensors.get(
        'model.layers.0.self_attn.q_proj.weight',
      )!.dtype,
    ).toBe('BF16');
    const m = new DeepSeekReferenceModel(loadDeepSeekModel(small), { maxSeqLen: 8 });
    expect(argmax(m.prefill([3, 4]))).toBeGreaterThanOrEqual(0);
    const { 'model.safetensors': _, ...noWeights } = small;
    expect(() => loadDeepSeekModel(noWeights)).toThrow(DeepSeekLoadError);
    const withConfig = (patch: object) => ({
      ...files,
      'config.json': new TextEncoder().encode(
        JSON.stringify(deepSeekConfigToJson({ ...SYNTHETIC_DEEPSEEK_CONFIG, ...patch })),
      ),
    });
    // a main layer missing is an error; the MTP layer missing entirely is a checkpoint without MTP
    // (5 layers: the stored MTP layer 4 reads as main layer 4, and no MTP tensors at index 5)
    expect(() => loadDeepSeekModel(withConfig({ numHiddenLayers: 6 }))).toThrow(
      /lacks tensor model\.layers\.5\./,
    );
    expect(loadDeepSeekModel(withConfig({ numHiddenLayers: 5 })).mtp).toHaveLength(0);
    expect(() => loadDeepSeekModel(withConfig({ vocabSize: 256 }))).toThrow(
      'model.embed_tokens.weight: shape [512,256], config implies [256,256]',
    );
  });
});
