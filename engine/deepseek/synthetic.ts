// Deterministic random-weight DeepSeek-V3-shaped checkpoints of any size, in the HF layout DeepSeek
// ships: config.json + model.safetensors, projections as F8_E4M3 `W.weight` + F32 `W.weight_scale_inv`
// (one per 128×128 block), norms / router / embeddings / head in BF16, e_score_correction_bias in F32.
// Each tensor's values depend only on (seed, tensor name), so a shape change elsewhere leaves them be.
import { bf16Bytes, writeSafetensors, type TensorInput } from '../formats/safetensors';
import { deepSeekConfigToJson, parseDeepSeekConfig, type DeepSeekConfig } from './config';
import { fp8ScaleName, fp8ScaleShape, quantizeWeightFp8 } from '../formats/fp8';
import { EMBED_TOKENS, LM_HEAD, deepSeekTensorSpecs, type TensorSpec } from './hf-names';

/** The example shape: 4 layers (1 dense), 16 routed experts top-4 in 4 groups (keep 2), 1 shared, 1 MTP. */
export const SYNTHETIC_DEEPSEEK_CONFIG: Readonly<DeepSeekConfig> = {
  vocabSize: 512,
  hiddenSize: 256,
  intermediateSize: 512,
  moeIntermediateSize: 128,
  numHiddenLayers: 4,
  numAttentionHeads: 4,
  qLoraRank: 96,
  kvLoraRank: 64,
  qkNopeHeadDim: 64,
  qkRopeHeadDim: 32,
  vHeadDim: 64,
  nRoutedExperts: 16,
  nSharedExperts: 1,
  numExpertsPerTok: 4,
  nGroup: 4,
  topkGroup: 2,
  firstKDenseReplace: 1,
  moeLayerFreq: 1,
  scoringFunc: 'sigmoid',
  topkMethod: 'noaux_tc',
  routedScalingFactor: 2.5,
  normTopkProb: true,
  ropeTheta: 10000,
  // A short "original" context so YaRN's frequency blend and mscale are exercised at small positions.
  ropeScaling: {
    type: 'yarn',
    factor: 4,
    originalMaxPositionEmbeddings: 128,
    betaFast: 32,
    betaSlow: 1,
    mscale: 1,
    mscaleAllDim: 1,
  },
  maxPositionEmbeddings: 512,
  rmsNormEps: 1e-6,
  tieWordEmbeddings: false,
  numNextnPredictLayers: 1,
  quantization: {
    quantMethod: 'fp8',
    fmt: 'e4m3',
    activationScheme: 'dynamic',
    weightBlockSize: [128, 128],
  },
  bosTokenId: 0,
  eosTokenId: 1,
};

export interface SyntheticOptions {
  /** Fields to change from SYNTHETIC_DEEPSEEK_CONFIG (quantization: null writes BF16 projections). */
  config?: Partial<DeepSeekConfig>;
  seed?: number;
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Standard normal samples from mulberry32 + Box–Muller, seeded by (seed, name). */
export function seededNormals(seed: number, name: string, n: number): Float32Array {
  let state = (fnv1a(name) ^ Math.imul(seed, 0x9e3779b1)) >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296; // (0, 1): log() below stays finite
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform())),
      a = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
  return out;
}

/** Values of one tensor; the MTP's stored copies of embedding and head reuse the main tensors' names. */
function tensorValues(spec: TensorSpec, seed: number): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const source =
    spec.role === 'embedding' ? EMBED_TOKENS : spec.role === 'head' ? LM_HEAD : spec.name;
  const v = seededNormals(seed, source, n);
  const fanIn = spec.shape[spec.shape.length - 1];
  const scale = {
    linear: 1 / Math.sqrt(fanIn),
    head: 1 / Math.sqrt(fanIn),
    router: 1 / Math.sqrt(fanIn),
    embedding: 1,
    norm: 0.1,
    'router-bias': 0.05,
  }[spec.role];
  for (let i = 0; i < n; i++) v[i] = v[i] * scale + (spec.role === 'norm' ? 1 : 0);
  return v;
}

/** The checkpoint as in-memory files: { 'config.json', 'model.safetensors' }. */
export function generateSyntheticDeepSeek(opts: SyntheticOptions = {}): Record<string, Uint8Array> {
  const config = parseDeepSeekConfig(
    deepSeekConfigToJson({ ...SYNTHETIC_DEEPSEEK_CONFIG, ...opts.config }),
  );
  const seed = opts.seed ?? 1;
  const tensors: Record<string, TensorInput> = {};
  for (const spec of deepSeekTensorSpecs(config)) {
    const v = tensorValues(spec, seed);
    if (spec.role === 'router-bias') {
      tensors[spec.name] = { dtype: 'F32', shape: spec.shape, data: v };
    } else if (spec.role === 'linear' && config.quantization) {
      const block = config.quantization.weightBlockSize;
      const [rows, cols] = spec.shape;
      const { q, scaleInv } = quantizeWeightFp8(v, rows, cols, block);
      tensors[spec.name] = { dtype: 'F8_E4M3', shape: spec.shape, data: q };
      tensors[fp8ScaleName(spec.name)] = {
        dtype: 'F32',
        shape: fp8ScaleShape(rows, cols, block),
        data: scaleInv,
      };
    } else {
      tensors[spec.name] = { dtype: 'BF16', shape: spec.shape, data: bf16Bytes(v) };
    }
  }
  const json = JSON.stringify(deepSeekConfigToJson(config), null, 2);
  return {
    'config.json': new TextEncoder().encode(json),
    'model.safetensors': writeSafetensors(tensors, {
      format: 'pt',
      generator: `engine/deepseek/synthetic seed=${seed}`,
    }),
  };
}
