// An imported model → the files of a model directory: config.json (with quantization_config),
// one model.safetensors planned tensor by tensor (written by the caller, streamed), and the
// tokenizer/template files the importer brought.
import { hfConfigJson } from './hf-config';
import { planOutput, quantizationConfig, type OutputTensor, type QuantTarget } from './hf-writer';
import { jsonBytes, type ImportedModel } from './imported-model';

export const WEIGHTS_FILE = 'model.safetensors';

export interface ModelDirPlan {
  /** Small files, ready to write: config.json, tokenizer files, … */
  files: Record<string, Uint8Array>;
  /** model.safetensors, to encode tensor by tensor (hf-writer.ts encodeSafetensors). */
  tensors: OutputTensor[];
  metadata: Record<string, string>;
}

export function planModelDir(m: ImportedModel, quant: QuantTarget): ModelDirPlan {
  const config = hfConfigJson(m.config, m.architecture, {
    bosTokenId: m.bosTokenId,
    eosTokenIds: m.eosTokenIds,
    maxPositionEmbeddings: m.maxPositionEmbeddings,
  });
  const q = quantizationConfig(quant);
  if (q) config.quantization_config = q;
  config.torch_dtype = quant === 'f16' ? 'float16' : 'float32';
  return {
    files: { ...m.files, 'config.json': jsonBytes(config) },
    tensors: planOutput(m.tensors, quant),
    metadata: { format: 'pt', quantization: quant },
  };
}
