// The tensors of a Llama/Qwen2 model in the Hugging Face layout: one table that the importers (what
// to write), the loader (what to expect, with which shape) and `model info` read.
import type { LlamaConfig } from '../llama/config';

/** linear: a projection (quantizable); embedding/head: vocab rows (quantizable); norm, bias: stay float. */
export type TensorRole = 'embedding' | 'linear' | 'head' | 'norm' | 'bias';

/** Which engine buffer a tensor fills (llama2.c names); `layer` is absent for the global ones. */
export type EngineSlot =
  | 'tokenEmbedding'
  | 'rmsAtt'
  | 'wq'
  | 'wk'
  | 'wv'
  | 'wo'
  | 'rmsFfn'
  | 'w1'
  | 'w2'
  | 'w3'
  | 'rmsFinal'
  | 'wcls'
  | 'bq'
  | 'bk'
  | 'bv';

export interface TensorSpec {
  name: string;
  shape: number[];
  role: TensorRole;
  slot: EngineSlot;
  layer?: number;
  /** q/k rows (and biases) are in rotate-half order per head in HF files; the engine's RoPE is interleaved. */
  rope?: boolean;
}

export function llamaTensorSpecs(c: LlamaConfig): TensorSpec[] {
  const { dim, hiddenDim, vocabSize } = c;
  const qDim = c.nHeads * c.headDim;
  const kvDim = c.nKvHeads * c.headDim;
  const specs: TensorSpec[] = [
    {
      name: 'model.embed_tokens.weight',
      shape: [vocabSize, dim],
      role: 'embedding',
      slot: 'tokenEmbedding',
    },
  ];
  for (let layer = 0; layer < c.nLayers; layer++) {
    const p = `model.layers.${layer}`;
    const add = (name: string, shape: number[], role: TensorRole, slot: EngineSlot, rope = false) =>
      specs.push({ name: `${p}.${name}`, shape, role, slot, layer, ...(rope ? { rope } : {}) });
    add('input_layernorm.weight', [dim], 'norm', 'rmsAtt');
    add('self_attn.q_proj.weight', [qDim, dim], 'linear', 'wq', true);
    add('self_attn.k_proj.weight', [kvDim, dim], 'linear', 'wk', true);
    add('self_attn.v_proj.weight', [kvDim, dim], 'linear', 'wv');
    if (c.qkvBias) {
      add('self_attn.q_proj.bias', [qDim], 'bias', 'bq', true);
      add('self_attn.k_proj.bias', [kvDim], 'bias', 'bk', true);
      add('self_attn.v_proj.bias', [kvDim], 'bias', 'bv');
    }
    add('self_attn.o_proj.weight', [dim, qDim], 'linear', 'wo');
    add('post_attention_layernorm.weight', [dim], 'norm', 'rmsFfn');
    add('mlp.gate_proj.weight', [hiddenDim, dim], 'linear', 'w1');
    add('mlp.up_proj.weight', [hiddenDim, dim], 'linear', 'w3');
    add('mlp.down_proj.weight', [dim, hiddenDim], 'linear', 'w2');
  }
  specs.push({ name: 'model.norm.weight', shape: [dim], role: 'norm', slot: 'rmsFinal' });
  if (!c.sharedClassifier)
    specs.push({ name: 'lm_head.weight', shape: [vocabSize, dim], role: 'head', slot: 'wcls' });
  return specs;
}

/** Parameters of the model (tied embeddings counted once). */
export function llamaParamCount(c: LlamaConfig): number {
  return llamaTensorSpecs(c).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

/**
 * Row `r` of a q/k projection in HF's rotate-half order → its row in the interleaved order: per
 * head, HF pairs dims (i, i + headDim/2) where llama2.c (and Meta's checkpoints) pair (2i, 2i + 1).
 */
export function interleavedRow(r: number, headDim: number): number {
  const half = headDim / 2;
  const within = r % headDim;
  const second = within >= half ? 1 : 0;
  return r - within + 2 * (within - second * half) + second;
}

type Rows = Float32Array | Int8Array | Uint8Array | Uint16Array;

/** Rows (of `rowLength` elements each) of a q/k tensor moved between the two RoPE orders (a new array). */
export function permuteRopeRows<T extends Rows>(
  src: T,
  rows: number,
  headDim: number,
  to: 'interleaved' | 'rotate-half',
): T {
  const rowLength = src.length / rows;
  const out = new (src.constructor as new (n: number) => T)(src.length);
  for (let r = 0; r < rows; r++) {
    const i = interleavedRow(r, headDim);
    const [from, dst] = to === 'interleaved' ? [r, i] : [i, r];
    out.set(src.subarray(from * rowLength, (from + 1) * rowLength) as never, dst * rowLength);
  }
  return out;
}
