// What every importer produces: an engine config, the tensors in the HF layout (read lazily), and
// the tokenizer/template files to put beside them. `model-dir.ts` turns it into a model directory.
import type { HfArchitecture } from './hf-config';
import type { SourceTensor } from './hf-writer';
import type { LlamaConfig } from '../llama/config';

export interface ImportedModel {
  config: LlamaConfig;
  architecture: HfArchitecture;
  bosTokenId: number | null;
  eosTokenIds: number[];
  /** The trained context when it differs from config.seqLen. */
  maxPositionEmbeddings?: number;
  tensors: SourceTensor[];
  /** tokenizer.json or tokenizer.bin, tokenizer_config.json, generation_config.json, … */
  files: Record<string, Uint8Array>;
}

export const jsonBytes = (value: unknown): Uint8Array =>
  new TextEncoder().encode(JSON.stringify(value, null, 2) + '\n');
