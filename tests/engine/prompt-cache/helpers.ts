// Prompt-cache test helpers: deterministic KV rows with a realistic spread (heads of different
// magnitude, a few outliers), and a chain hash for one block.
import {
  BLOCK_TOKENS,
  chainHashes,
  type GqaKvRows,
  type KvShape,
  type LatentRows,
  type LatentShape,
} from '../../../engine/index';
import { mulberry32 } from '../../../engine/llama/synthetic';

export const SHAPE: KvShape = { nLayers: 3, nKvHeads: 4, headDim: 8 };

/** Rows for [start, start+count): roughly normal values, scaled per head, with rare 10× outliers. */
export function randomRows(shape: KvShape, start: number, count: number, seed = 7): GqaKvRows {
  const rand = mulberry32(seed);
  const n = shape.nLayers * count * shape.nKvHeads * shape.headDim;
  const fill = () =>
    Float32Array.from({ length: n }, (_, i) => {
      const head = Math.floor(i / shape.headDim) % shape.nKvHeads;
      const normal = (rand() + rand() + rand() - 1.5) * 2;
      return normal * (0.5 + head) * (rand() < 0.01 ? 10 : 1);
    });
  return { ...shape, start, count, keys: fill(), values: fill() };
}

/**
 * MLA latents for [start, start+count): c_kv near unit RMS (it is RMS-normed) with per-channel gains
 * and rare 8× outliers; k_pe a raw projection, smaller, its magnitude varying by layer. Never zero.
 * `wide`: f64 rows, as the origin's CPU backend holds them.
 */
export function randomLatents(
  shape: LatentShape,
  start: number,
  count: number,
  seed = 11,
  wide = false,
): LatentRows {
  const rand = mulberry32(seed);
  const normal = () => (rand() + rand() + rand() - 1.5) * 2 + 1e-3;
  const rows = shape.nLayers * count;
  const of = (n: number, f: (i: number) => number) => {
    const a = wide ? new Float64Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = f(i);
    return a;
  };
  const cKv = of(
    rows * shape.kvLoraRank,
    (i) => normal() * (0.6 + (i % shape.kvLoraRank) / shape.kvLoraRank) * (rand() < 0.01 ? 8 : 1),
  );
  const kPe = of(
    rows * shape.ropeDim,
    (i) => normal() * 0.05 * (1 + Math.floor(i / (count * shape.ropeDim))),
  );
  return { ...shape, start, count, cKv, kPe };
}

export async function hashOf(
  tenant = 'salt_a',
  model = 'm',
  digest = 'd'.repeat(64),
): Promise<Uint8Array> {
  const ids = Array.from({ length: BLOCK_TOKENS }, (_, i) => (i * 7) % 500);
  return (
    await chainHashes({ tenantSalt: tenant, modelId: model, weightsDigest: digest }, ids, 1)
  )[0];
}

/** Largest |a - b| and the largest |a|. */
export function maxError(a: Float32Array, b: Float32Array): { abs: number; amax: number } {
  let abs = 0,
    amax = 0;
  for (let i = 0; i < a.length; i++) {
    abs = Math.max(abs, Math.abs(a[i] - b[i]));
    amax = Math.max(amax, Math.abs(a[i]));
  }
  return { abs, amax };
}
