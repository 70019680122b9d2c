// RoPE with scaled frequencies (HF `rope_scaling`: Llama 3's and linear), for models whose
// frequencies are not the plain theta^(-2i/headDim) the `rope` kernel computes. Same interleaved
// pair layout as the kernel: HF (rotate-half) q/k rows are permuted to it at load (formats/rope-layout.ts).
import type { LlamaConfig } from './config';

/** Inverse frequency of each pair i < headDim/2, as HF's rope init computes it (float64, then f32). */
export function ropeInverseFrequencies(
  c: Pick<LlamaConfig, 'headDim' | 'ropeTheta' | 'ropeScaling'>,
): Float32Array {
  const half = c.headDim / 2;
  const out = new Float32Array(half);
  const s = c.ropeScaling;
  for (let i = 0; i < half; i++) {
    const base = 1 / Math.pow(c.ropeTheta, (2 * i) / c.headDim);
    if (!s) out[i] = base;
    else if (s.type === 'linear') out[i] = base / s.factor;
    else {
      // transformers' _compute_llama3_parameters: long wavelengths slowed by `factor`, short ones
      // kept, the band between them interpolated.
      const lowWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
      const highWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
      const wavelen = (2 * Math.PI) / base;
      if (wavelen < highWavelen) out[i] = base;
      else if (wavelen > lowWavelen) out[i] = base / s.factor;
      else {
        const smooth =
          (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) /
          (s.highFreqFactor - s.lowFreqFactor);
        out[i] = (1 - smooth) * (base / s.factor) + smooth * base;
      }
    }
  }
  return out;
}

/** In place on q[nHeads*headDim] and k[nKvHeads*headDim]: pair (2i, 2i+1) turns by pos * invFreq[i]. */
export function ropeWithFrequencies(
  q: Float32Array,
  k: Float32Array,
  nHeads: number,
  nKvHeads: number,
  headDim: number,
  pos: number,
  invFreq: Float32Array,
): void {
  for (let i = 0; i < headDim; i += 2) {
    const angle = pos * invFreq[i >> 1];
    const c = Math.cos(angle),
      s = Math.sin(angle);
    for (let h = 0; h < nHeads + nKvHeads; h++) {
      const v = h < nHeads ? q : k;
      const p = (h < nHeads ? h : h - nHeads) * headDim + i;
      const v0 = v[p],
        v1 = v[p + 1];
      v[p] = v0 * c - v1 * s;
      v[p + 1] = v0 * s + v1 * c;
    }
  }
}
