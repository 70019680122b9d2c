// Prompt-cache test helpers: deterministic KV rows with a realistic spread (heads of different
// magnitude, a few outliers), and a chain hash for one block.
import { BLOCK_TOKENS, chainHashes, type KvRows, type KvShape } from '../../../engine/index';

export const SHAPE: KvShape = { nLayers: 3, nKvHeads: 4, headDim: 8 };

/** Rows for [start, start+count): roughly normal values, scaled per head, with rare 10× outliers. */
export function randomRows(shape: KvShape, start: number, count: number, seed = 7): KvRows {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const n = shape.nLayers * count * shape.nKvHeads * shape.headDim;
  const fill = () =>
    Float32Array.from({ length: n }, (_, i) => {
      const head = Math.floor(i / shape.headDim) % shape.nKvHeads;
      const normal = (rand() + rand() + rand() - 1.5) * 2;
      return normal * (0.5 + head) * (rand() < 0.01 ? 10 : 1);
    });
  return { ...shape, start, count, keys: fill(), values: fill() };
}

export async function hashOf(tenant = 'salt_a', model = 'm', digest = 'd'.repeat(64)): Promise<Uint8Array> {
  const ids = Array.from({ length: BLOCK_TOKENS }, (_, i) => (i * 7) % 500);
  return (await chainHashes({ tenantSalt: tenant, modelId: model, weightsDigest: digest }, ids, 1))[0];
}

/** Largest |a - b| and the largest |a|. */
export function maxError(a: Float32Array, b: Float32Array): { abs: number; amax: number } {
  let abs = 0, amax = 0;
  for (let i = 0; i < a.length; i++) {
    abs = Math.max(abs, Math.abs(a[i] - b[i]));
    amax = Math.max(amax, Math.abs(a[i]));
  }
  return { abs, amax };
}
