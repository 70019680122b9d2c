// An independent float64 forward pass over HF-layout tensors, written the way transformers'
// LlamaForCausalLM / Qwen2ForCausalLM compute (rotate-half RoPE on the files' own q/k order, biases,
// GQA, tied head), plus synthetic HF models of any shape: the importers' ground truth.
import { hfConfigJson, type HfArchitecture } from '../../../engine/formats/hf-config';
import { llamaTensorSpecs } from '../../../engine/formats/hf-tensors';
import { ropeInverseFrequencies } from '../../../engine/llama/rope';
import { mulberry32 } from '../../../engine/llama/synthetic';
import type { SourceTensor } from '../../../engine/formats/hf-writer';
import type { ImportedModel } from '../../../engine/formats/imported-model';
import type { LlamaConfig } from '../../../engine/llama/config';

export function syntheticHfModel(
  c: LlamaConfig,
  architecture: HfArchitecture,
  seed = 1,
  files: Record<string, Uint8Array> = {},
): ImportedModel {
  const random = mulberry32(seed);
  const tensors: SourceTensor[] = llamaTensorSpecs(c).map((spec) => {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++)
      values[i] =
        spec.role === 'norm'
          ? 1 + (random() - 0.5) * 0.2
          : spec.role === 'bias'
            ? (random() - 0.5) * 0.2
            : (random() - 0.5) * 0.1;
    return { spec, read: () => values };
  });
  return {
    config: c,
    architecture,
    bosTokenId: null,
    eosTokenIds: [c.vocabSize - 1],
    tensors,
    files,
  };
}

export function hfConfigOf(m: ImportedModel): Record<string, unknown> {
  return hfConfigJson(m.config, m.architecture, { eosTokenIds: m.eosTokenIds });
}

/** Logits after each token, in float64, from the tensors as stored (HF layout). */
export function hfReferenceLogits(m: ImportedModel, tokens: number[]): Float64Array[] {
  const c = m.config;
  const t = new Map(m.tensors.map((s) => [s.spec.name, Float64Array.from(s.read())]));
  const w = (name: string) => t.get(name)!;
  const { dim, headDim, nHeads, nKvHeads } = c;
  const invFreq = ropeInverseFrequencies(c);
  const matvec = (W: Float64Array, x: Float64Array, rows: number) => {
    const cols = x.length;
    const out = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let j = 0; j < cols; j++) sum += W[r * cols + j] * x[j];
      out[r] = sum;
    }
    return out;
  };
  const rmsnorm = (x: Float64Array, g: Float64Array) => {
    const ms = x.reduce((a, v) => a + v * v, 0) / x.length;
    return x.map((v, i) => (v / Math.sqrt(ms + c.normEps)) * g[i]);
  };
  const rotateHalf = (v: Float64Array, heads: number, pos: number) => {
    const half = headDim / 2;
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < half; i++) {
        const a = pos * invFreq[i],
          cos = Math.cos(a),
          sin = Math.sin(a);
        const x1 = v[h * headDim + i],
          x2 = v[h * headDim + half + i];
        v[h * headDim + i] = x1 * cos - x2 * sin;
        v[h * headDim + half + i] = x2 * cos + x1 * sin;
      }
    }
  };
  const keys: Float64Array[][] = Array.from({ length: c.nLayers }, () => []);
  const values: Float64Array[][] = Array.from({ length: c.nLayers }, () => []);
  const embed = w('model.embed_tokens.weight');
  const head = c.sharedClassifier ? embed : w('lm_head.weight');
  return tokens.map((token, pos) => {
    let x = embed.slice(token * dim, (token + 1) * dim);
    for (let l = 0; l < c.nLayers; l++) {
      const p = `model.layers.${l}.`;
      const xn = rmsnorm(x, w(p + 'input_layernorm.weight'));
      const bias = (v: Float64Array, name: string) =>
        c.qkvBias ? v.map((e, i) => e + w(p + name)[i]) : v;
      const q = bias(
        matvec(w(p + 'self_attn.q_proj.weight'), xn, nHeads * headDim),
        'self_attn.q_proj.bias',
      );
      const k = bias(
        matvec(w(p + 'self_attn.k_proj.weight'), xn, nKvHeads * headDim),
        'self_attn.k_proj.bias',
      );
      const v = bias(
        matvec(w(p + 'self_attn.v_proj.weight'), xn, nKvHeads * headDim),
        'self_attn.v_proj.bias',
      );
      rotateHalf(q, nHeads, pos);
      rotateHalf(k, nKvHeads, pos);
      keys[l].push(k);
      values[l].push(v);
      const att = new Float64Array(nHeads * headDim);
      for (let h = 0; h < nHeads; h++) {
        const kv = Math.floor(h / (nHeads / nKvHeads)) * headDim;
        const scores = keys[l].map((kt) => {
          let s = 0;
          for (let d = 0; d < headDim; d++) s += q[h * headDim + d] * kt[kv + d];
          return s / Math.sqrt(headDim);
        });
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const sum = e.reduce((a, b) => a + b, 0);
        for (let t2 = 0; t2 < e.length; t2++)
          for (let d = 0; d < headDim; d++)
            att[h * headDim + d] += (e[t2] / sum) * values[l][t2][kv + d];
      }
      const o = matvec(w(p + 'self_attn.o_proj.weight'), att, dim);
      x = x.map((e, i) => e + o[i]);
      const xf = rmsnorm(x, w(p + 'post_attention_layernorm.weight'));
      const gate = matvec(w(p + 'mlp.gate_proj.weight'), xf, c.hiddenDim);
      const up = matvec(w(p + 'mlp.up_proj.weight'), xf, c.hiddenDim);
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
      const down = matvec(w(p + 'mlp.down_proj.weight'), act, dim);
      x = x.map((e, i) => e + down[i]);
    }
    return matvec(head, rmsnorm(x, w('model.norm.weight')), c.vocabSize);
  });
}
