// GGUF ↔ the HF layout for the llama and qwen2 architectures. Import: header parsed by
// @huggingface/gguf (the caller's), tensor bytes read by offset; F32/F16/BF16 widen, Q8_0/Q4_0 become our
// planar q8/q4 without loss. Export (tests, the llama.cpp benchmark): what llama.cpp's converter writes.
// llama.cpp keeps llama's q/k rows in the interleaved RoPE order (its convert permutes them), qwen2's in
// rotate-half (NEOX), so only llama's are permuted here.
import type { LlamaConfig } from '../llama/config';
import { bf16ToF32 } from './safetensors';
import { parseHfConfig, type HfArchitecture } from './hf-config';
import { llamaTensorSpecs, permuteRopeRows, type TensorSpec } from './hf-tensors';
import { sourceValues, type SourceTensor } from './hf-writer';
import {
  GgmlType,
  f16Bytes,
  f16Values,
  fromGgufBlocks,
  toGgufBlocks,
  writeGguf,
  type GgmlTypeId,
  type GgufValue,
} from './gguf-writer';
import { tokenizerFilesFromGguf, type GgufTokenizerFields } from './gguf-tokenizer';
import type { ImportedModel } from './imported-model';
import { quantizeQ4, quantizeQ8 } from './quant';

export interface GgufHeader {
  metadata: Record<string, unknown>;
  tensorInfos: {
    name: string;
    shape: (bigint | number)[];
    dtype: number;
    offset: bigint | number;
  }[];
  tensorDataOffset: bigint | number;
}

/** HF tensor name → GGUF tensor name. */
export function ggufName(hf: string): string {
  const fixed: Record<string, string> = {
    'model.embed_tokens.weight': 'token_embd.weight',
    'model.norm.weight': 'output_norm.weight',
    'lm_head.weight': 'output.weight',
  };
  if (fixed[hf]) return fixed[hf];
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(hf);
  if (!m) throw new Error(`no GGUF name for ${hf}`);
  const parts: Record<string, string> = {
    'input_layernorm.weight': 'attn_norm.weight',
    'post_attention_layernorm.weight': 'ffn_norm.weight',
    'self_attn.q_proj.weight': 'attn_q.weight',
    'self_attn.k_proj.weight': 'attn_k.weight',
    'self_attn.v_proj.weight': 'attn_v.weight',
    'self_attn.q_proj.bias': 'attn_q.bias',
    'self_attn.k_proj.bias': 'attn_k.bias',
    'self_attn.v_proj.bias': 'attn_v.bias',
    'self_attn.o_proj.weight': 'attn_output.weight',
    'mlp.gate_proj.weight': 'ffn_gate.weight',
    'mlp.up_proj.weight': 'ffn_up.weight',
    'mlp.down_proj.weight': 'ffn_down.weight',
  };
  return `blk.${m[1]}.${parts[m[2]]}`;
}

const num = (v: unknown) => (typeof v === 'bigint' ? Number(v) : (v as number));

function configOf(
  md: Record<string, unknown>,
  hasOutput: boolean,
): { config: LlamaConfig & { maxPositionEmbeddings: number }; architecture: HfArchitecture } {
  const arch = md['general.architecture'];
  if (arch !== 'llama' && arch !== 'qwen2')
    throw new Error(`GGUF architecture ${JSON.stringify(arch)} is not supported (llama, qwen2)`);
  const get = (key: string, fallback?: number) => {
    const v = md[`${arch}.${key}`] ?? fallback;
    if (v === undefined) throw new Error(`GGUF metadata lacks ${arch}.${key}`);
    return num(v);
  };
  const dim = get('embedding_length');
  const nHeads = get('attention.head_count');
  const tokens = md['tokenizer.ggml.tokens'] as unknown[] | undefined;
  const scaling = md[`${arch}.rope.scaling.type`];
  const json = {
    model_type: arch,
    hidden_size: dim,
    intermediate_size: get('feed_forward_length'),
    num_hidden_layers: get('block_count'),
    num_attention_heads: nHeads,
    num_key_value_heads: get('attention.head_count_kv', nHeads),
    head_dim: get('attention.key_length', get('rope.dimension_count', dim / nHeads)),
    vocab_size: get('vocab_size', tokens?.length),
    max_position_embeddings: get('context_length', 2048),
    rms_norm_eps: get('attention.layer_norm_rms_epsilon', 1e-5),
    rope_theta: get('rope.freq_base', 10000),
    rope_scaling:
      scaling === 'linear' ? { rope_type: 'linear', factor: get('rope.scaling.factor') } : null,
    tie_word_embeddings: !hasOutput,
  };
  if (scaling !== undefined && scaling !== 'none' && scaling !== 'linear')
    throw new Error(`GGUF rope scaling ${JSON.stringify(scaling)} is not supported`);
  const config = parseHfConfig(json);
  return { config, architecture: arch };
}

export function importGguf(
  h: GgufHeader,
  read: (offset: number, length: number) => Uint8Array,
): ImportedModel {
  const infos = new Map(h.tensorInfos.map((t) => [t.name, t]));
  if (infos.has('rope_freqs.weight'))
    throw new Error('GGUF with a rope_freqs tensor (Llama 3 rope scaling) is not supported');
  const { config, architecture } = configOf(h.metadata, infos.has('output.weight'));
  const base = num(h.tensorDataOffset);
  const tensors: SourceTensor[] = llamaTensorSpecs(config).map((spec) => {
    const info = infos.get(ggufName(spec.name));
    if (!info) throw new Error(`GGUF lacks tensor ${ggufName(spec.name)}`);
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const dims = info.shape.map(num);
    if (dims.reduce((a, b) => a * b, 1) !== n)
      throw new Error(`${info.name}: shape [${dims}] does not hold [${spec.shape}]`);
    const permute = architecture === 'llama' && spec.rope;
    const at = base + num(info.offset);
    const rows = spec.shape[0];
    const fix = <T extends Float32Array | Uint8Array | Uint16Array>(a: T) =>
      permute ? permuteRopeRows(a, rows, config.headDim, 'rotate-half') : a;
    switch (info.dtype) {
      case GgmlType.F32:
        return { spec, read: () => fix(new Float32Array(new Uint8Array(read(at, 4 * n)).buffer)) };
      case GgmlType.F16:
        return { spec, read: () => fix(f16Values(read(at, 2 * n))) };
      case GgmlType.BF16:
        return {
          spec,
          read: () => fix(bf16ToF32(new Uint16Array(new Uint8Array(read(at, 2 * n)).buffer))),
        };
      case GgmlType.Q8_0:
      case GgmlType.Q4_0: {
        const format = info.dtype === GgmlType.Q8_0 ? 'q8' : 'q4';
        const bytes = (n / 32) * (format === 'q8' ? 34 : 18);
        const group = () => {
          const g = fromGgufBlocks(read(at, bytes), format);
          return { q: fix(g.q), scales: fix(g.scales) };
        };
        const source: SourceTensor = {
          spec,
          read: () => sourceValues(source),
          group: { format, read: group },
        }; // values: the group dequantized
        return source;
      }
      default:
        throw new Error(
          `${info.name}: ggml type ${info.dtype} is not supported (F32, F16, BF16, Q8_0, Q4_0)`,
        );
    }
  });
  const md = h.metadata;
  const id = (key: string) => (md[key] === undefined ? null : num(md[key]));
  return {
    config,
    architecture,
    bosTokenId: id('tokenizer.ggml.bos_token_id'),
    eosTokenIds:
      id('tokenizer.ggml.eos_token_id') === null ? [] : [id('tokenizer.ggml.eos_token_id')!],
    maxPositionEmbeddings: config.maxPositionEmbeddings,
    tensors,
    files: tokenizerFilesFromGguf(md as GgufTokenizerFields),
  };
}

export type GgufExportType = 'f32' | 'f16' | 'q8_0' | 'q4_0';

/** The model as llama.cpp's converter would write it: norms and biases F32, matrices in `type`. */
export function exportGguf(
  m: ImportedModel,
  type: GgufExportType,
  tokenizer: [string, GgufValue][],
): Uint8Array {
  const c = m.config;
  const arch = m.architecture;
  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  const f32 = (value: number): GgufValue => ({ type: 'f32', value });
  const kv: [string, GgufValue][] = [
    ['general.architecture', { type: 'string', value: arch }],
    ['general.name', { type: 'string', value: 'edge-inference export' }],
    ['general.file_type', u32({ f32: 0, f16: 1, q4_0: 2, q8_0: 7 }[type])],
    [`${arch}.context_length`, u32(m.maxPositionEmbeddings ?? c.seqLen)],
    [`${arch}.embedding_length`, u32(c.dim)],
    [`${arch}.block_count`, u32(c.nLayers)],
    [`${arch}.feed_forward_length`, u32(c.hiddenDim)],
    [`${arch}.attention.head_count`, u32(c.nHeads)],
    [`${arch}.attention.head_count_kv`, u32(c.nKvHeads)],
    [`${arch}.rope.dimension_count`, u32(c.headDim)],
    [`${arch}.attention.layer_norm_rms_epsilon`, f32(c.normEps)],
    [`${arch}.rope.freq_base`, f32(c.ropeTheta)],
    ...tokenizer,
  ];
  const tensors = m.tensors.map((src) =>
    ggufTensor(src, type, arch === 'llama' && !!src.spec.rope, c.headDim),
  );
  return writeGguf(kv, tensors);
}

function ggufTensor(src: SourceTensor, type: GgufExportType, permute: boolean, headDim: number) {
  const spec: TensorSpec = src.spec;
  const [rows, cols = 1] = spec.shape;
  let values = sourceValues(src);
  if (permute) values = permuteRopeRows(values, rows, headDim, 'interleaved');
  const name = ggufName(spec.name);
  const ne = spec.shape.length === 2 ? [cols, rows] : [rows];
  const matrix = spec.shape.length === 2;
  const t: GgmlTypeId =
    !matrix || type === 'f32'
      ? GgmlType.F32
      : type === 'f16'
        ? GgmlType.F16
        : type === 'q8_0'
          ? GgmlType.Q8_0
          : GgmlType.Q4_0;
  if (t === GgmlType.F32) return { name, type: t, ne, data: new Uint8Array(values.slice().buffer) };
  if (t === GgmlType.F16) return { name, type: t, ne, data: f16Bytes(values) };
  const format = t === GgmlType.Q8_0 ? 'q8' : 'q4';
  return {
    name,
    type: t,
    ne,
    data: toGgufBlocks((format === 'q8' ? quantizeQ8 : quantizeQ4)(values, rows, cols), format),
  };
}
