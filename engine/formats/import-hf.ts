// A Hugging Face model directory (F32/F16/BF16 safetensors, or one of ours, already quantized) → an
// ImportedModel, to re-quantize. Tensors stay in the HF layout; tokenizer and template files are kept.
import { dequantizeWeightFp8, fp8ScaleName } from './fp8';
import { parseHfConfig } from './hf-config';
import { llamaTensorSpecs } from './hf-tensors';
import type { SourceTensor } from './hf-writer';
import type { ImportedModel } from './imported-model';
import { readSafetensors, tensorToFloat32, type TensorView } from './safetensors';

/** Files copied as they are into the converted directory. */
export const PASSTHROUGH_FILES = [
  'tokenizer.json',
  'tokenizer.bin',
  'tokenizer_config.json',
  'generation_config.json',
  'special_tokens_map.json',
];

export function importHfDir(
  configJson: unknown,
  weightFiles: Uint8Array[],
  otherFiles: Record<string, Uint8Array>,
): ImportedModel {
  const config = parseHfConfig(configJson);
  const tensors = new Map<string, TensorView>();
  for (const file of weightFiles)
    for (const [name, t] of readSafetensors(file).tensors) tensors.set(name, t);
  const get = (name: string) => {
    const t = tensors.get(name);
    if (!t) throw new Error(`the weights lack ${name}`);
    return t;
  };
  const sources: SourceTensor[] = llamaTensorSpecs(config).map((spec) => {
    const t = get(spec.name);
    const [rows, cols] = spec.shape;
    if (t.dtype === 'I8' || t.dtype === 'U8') {
      const scales = get(spec.name.replace(/\.weight$/, '.scales'));
      const read = () => ({
        q: t.bytes,
        scales: new Uint16Array(new Uint8Array(scales.bytes).buffer),
      });
      return {
        spec,
        read: () => {
          throw new Error(`${spec.name} is group-quantized: read group`);
        },
        group: { format: t.dtype === 'I8' ? 'q8' : 'q4', read },
      };
    }
    if (t.dtype === 'F8_E4M3') {
      const scaleInv = tensorToFloat32(get(fp8ScaleName(spec.name)));
      return { spec, read: () => dequantizeWeightFp8({ q: t.bytes, scaleInv }, rows, cols) };
    }
    return { spec, read: () => tensorToFloat32(t) };
  });
  const gen = otherFiles['generation_config.json'];
  const genEos = gen
    ? (JSON.parse(new TextDecoder().decode(gen)) as { eos_token_id?: number | number[] })
        .eos_token_id
    : undefined;
  return {
    config,
    architecture: config.architecture,
    bosTokenId: config.bosTokenId,
    eosTokenIds: config.eosTokenIds.length
      ? config.eosTokenIds
      : typeof genEos === 'number'
        ? [genEos]
        : (genEos ?? []),
    maxPositionEmbeddings: config.maxPositionEmbeddings,
    tensors: sources,
    files: Object.fromEntries(
      PASSTHROUGH_FILES.filter((f) => otherFiles[f]).map((f) => [f, otherFiles[f]]),
    ),
  };
}
