// llama2.c v0 checkpoint + tokenizer.bin → the HF layout. llama2.c keeps Meta's interleaved RoPE
// order; HF files are rotate-half, so q/k rows are permuted here (the loader permutes them back).
import { parseLlama2cCheckpoint, type LlamaWeights } from '../llama/llama2c-checkpoint';
import { BOS_ID, EOS_ID } from '../tokenizers/llama2c-tokenizer';
import { llamaTensorSpecs, permuteRopeRows, type EngineSlot } from './hf-tensors';
import type { SourceTensor } from './hf-writer';
import { jsonBytes, type ImportedModel } from './imported-model';
import type { LlamaConfig } from '../llama/config';

/** The HF tensors of weights in llama2.c's stacked [nLayers, …] arrays. */
export function tensorsOfLlamaWeights(config: LlamaConfig, weights: LlamaWeights): SourceTensor[] {
  return llamaTensorSpecs(config).map((spec) => {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const all = weights[spec.slot as Exclude<EngineSlot, 'bq' | 'bk' | 'bv'>];
    const at = spec.layer === undefined ? 0 : spec.layer * n;
    const read = () => {
      const values = all.subarray(at, at + n);
      return spec.rope
        ? permuteRopeRows(values, spec.shape[0], config.headDim, 'rotate-half')
        : values;
    };
    return { spec, read };
  });
}

export function importLlama2c(checkpoint: Uint8Array, tokenizerBin: Uint8Array): ImportedModel {
  const { config, weights } = parseLlama2cCheckpoint(checkpoint);
  return {
    config,
    architecture: 'llama',
    bosTokenId: BOS_ID,
    eosTokenIds: [EOS_ID],
    tensors: tensorsOfLlamaWeights(config, weights),
    files: {
      'tokenizer.bin': tokenizerBin,
      // the llama2.c tokenizer has no chat template: the plain template applies
      'tokenizer_config.json': jsonBytes({
        tokenizer_class: 'Llama2cTokenizer',
        bos_token: '<s>',
        eos_token: '</s>',
        add_bos_token: true,
      }),
    },
  };
}
