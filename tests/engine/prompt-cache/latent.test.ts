// Latent (MLA) entries: every codec's round trip (byte-for-byte on re-encode, per-codec error bounds
// on random latents), the sync (node:zlib) and async (CompressionStream) pairs reading each other,
// and damage: a truncated, bit-flipped, foreign or misshapen entry decodes to a miss, never to rows.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  HEADER_BYTES,
  LATENT_CODEC_NAMES,
  decodeEntry,
  decodeLatentEntry,
  decodeLatentEntrySync,
  encodeEntry,
  encodeLatentEntry,
  encodeLatentEntrySync,
  latentPayloadBytes,
  type LatentRows,
  type LatentShape,
  type SyncDeflate,
} from '../../../engine/index';
import { SHAPE, hashOf, randomLatents, randomRows } from './helpers';

const LATENT: LatentShape = { nLayers: 3, kvLoraRank: 32, ropeDim: 16 };
const zlib: SyncDeflate = {
  deflate: (b) => deflateRawSync(b),
  inflate: (b, limit) => inflateRawSync(b, { maxOutputLength: Math.max(1, limit) }),
};

const expectation = async (rows: LatentRows, shape = LATENT) => ({
  chainHash: await hashOf(),
  shape,
  start: rows.start,
  count: rows.count,
});

/** Largest |x - x'| / bound(x, row amax) over a stream of rows of `width` values: <= 1 passes. */
function worstRatio(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  width: number,
  bound: (v: number, amax: number) => number,
): number {
  let worst = 0;
  for (let r = 0; r < x.length / width; r++) {
    let amax = 0;
    for (let i = r * width; i < (r + 1) * width; i++) amax = Math.max(amax, Math.abs(x[i]));
    for (let i = r * width; i < (r + 1) * width; i++) {
      const err = Math.abs(x[i] - y[i]);
      if (err > 0) worst = Math.max(worst, err / bound(x[i], amax));
    }
  }
  return worst;
}

/** What each codec promises per value (f32 rounding of the decoded value on top). */
const BOUNDS = {
  f32: () => Number.MIN_VALUE,
  f16: (v: number) => Math.abs(v) * 2 ** -11 + 2 ** -25, // half an f16 ulp (and of a subnormal step)
  int8: (v: number, amax: number) => (amax / 127) * 0.5 * (1 + 1e-6) + Math.abs(v) * 2 ** -24, // half a step
  fp8: (v: number, amax: number) =>
    Math.max(Math.abs(v) * 2 ** -4, (amax / 448) * 2 ** -10) * (1 + 1e-6) + Math.abs(v) * 2 ** -24, // half an E4M3 step
};

describe.each(LATENT_CODEC_NAMES)('latent codec %s', (codec) => {
  const rows = randomLatents(LATENT, 128, 64);

  it('decodes within its bound and re-encodes byte for byte', async () => {
    const entry = await encodeLatentEntry(rows, codec, await hashOf());
    const got = await decodeLatentEntry(entry, await expectation(rows));
    if (!got.ok) throw new Error(got.reason);
    expect(got.codec).toBe(codec);
    expect({ ...got.rows, cKv: null, kPe: null }).toEqual({
      ...LATENT,
      start: 128,
      count: 64,
      cKv: null,
      kPe: null,
    });
    expect(
      worstRatio(rows.cKv, got.rows.cKv, LATENT.kvLoraRank, BOUNDS[codec]),
    ).toBeLessThanOrEqual(1);
    expect(worstRatio(rows.kPe, got.rows.kPe, LATENT.ropeDim, BOUNDS[codec])).toBeLessThanOrEqual(
      1,
    );
    if (codec === 'f32') expect(got.rows.cKv).toEqual(rows.cKv);
    else expect(got.rows.cKv).not.toEqual(rows.cKv); // lossy, and the test would notice if it were not
    const again = await encodeLatentEntry(got.rows, codec, await hashOf());
    expect(again).toEqual(entry);
  });

  it("reads f64 rows (the CPU origin's caches) within the same bound", async () => {
    const wide = randomLatents(LATENT, 0, 64, 5, true);
    const got = decodeLatentEntrySync(
      encodeLatentEntrySync(wide, codec, await hashOf(), zlib),
      await expectation(wide),
      zlib,
    );
    if (!got.ok) throw new Error(got.reason);
    const bound = codec === 'f32' ? (v: number) => Math.abs(v) * 2 ** -24 : BOUNDS[codec];
    expect(worstRatio(wide.cKv, got.rows.cKv, LATENT.kvLoraRank, bound)).toBeLessThanOrEqual(1);
    expect(worstRatio(wide.kPe, got.rows.kPe, LATENT.ropeDim, bound)).toBeLessThanOrEqual(1);
  });

  it('the sync (node:zlib) and async (CompressionStream) pairs read each other', async () => {
    const hash = await hashOf(),
      expect_ = await expectation(rows);
    const viaAsync = await encodeLatentEntry(rows, codec, hash),
      viaSync = encodeLatentEntrySync(rows, codec, hash, zlib);
    const a = decodeLatentEntrySync(viaAsync, expect_, zlib),
      b = await decodeLatentEntry(viaSync, expect_);
    if (!a.ok || !b.ok) throw new Error('miss');
    expect(a.rows).toEqual(b.rows);
  });

  it('has the payload size of its layout', () => {
    const values = LATENT.nLayers * 64 * (LATENT.kvLoraRank + LATENT.ropeDim);
    const perValue = { f32: 4, f16: 2, int8: 1, fp8: 1 }[codec];
    const scales = codec === 'int8' || codec === 'fp8' ? 2 * 4 * LATENT.nLayers * 64 : 0;
    expect(latentPayloadBytes(LATENT, 64, codec)).toBe(perValue * values + scales);
  });
});

describe('latent entries: scales', () => {
  it('keeps tiny and huge rows (f32 scales), and a zero row stays zero', async () => {
    const rows = randomLatents({ ...LATENT, nLayers: 1 }, 0, 4);
    for (let i = 0; i < 32; i++) rows.cKv[i] *= 1e-9; // position 0: tiny
    for (let i = 32; i < 64; i++) rows.cKv[i] *= 1e9; // position 1: beyond an f16 scale's range
    rows.cKv.fill(0, 64, 96); // position 2: all zero
    for (const codec of ['int8', 'fp8'] as const) {
      const got = decodeLatentEntrySync(
        encodeLatentEntrySync(rows, codec, await hashOf(), zlib),
        { ...(await expectation(rows)), shape: { ...LATENT, nLayers: 1 } },
        zlib,
      );
      if (!got.ok) throw new Error(got.reason);
      expect(worstRatio(rows.cKv, got.rows.cKv, 32, BOUNDS[codec])).toBeLessThanOrEqual(1);
      expect(Array.from(got.rows.cKv.subarray(64, 96))).toEqual(new Array(32).fill(0));
    }
  });

  it('refuses to encode non-finite latents', async () => {
    const rows = randomLatents(LATENT, 0, 64);
    rows.kPe[17] = NaN;
    for (const codec of ['int8', 'fp8'] as const)
      await expect(encodeLatentEntry(rows, codec, await hashOf())).rejects.toThrow(RangeError);
  });
});

describe('latent entries: damage is a miss', () => {
  const rows = randomLatents(LATENT, 64, 64);
  const missOf = async (
    entry: Uint8Array,
    e?: Partial<Awaited<ReturnType<typeof expectation>>>,
  ) => {
    const got = await decodeLatentEntry(entry, { ...(await expectation(rows)), ...e });
    const sync = decodeLatentEntrySync(entry, { ...(await expectation(rows)), ...e }, zlib);
    expect(sync.ok).toBe(got.ok);
    return got.ok ? 'hit' : got.reason;
  };

  it('misses on truncation, padding and any flipped bit (header, hash or body)', async () => {
    const entry = await encodeLatentEntry(rows, 'int8', await hashOf());
    expect(await missOf(entry)).toBe('hit');
    for (const length of [
      0,
      10,
      HEADER_BYTES - 1,
      HEADER_BYTES,
      HEADER_BYTES + 5,
      entry.length - 1,
    ]) {
      expect(await missOf(entry.slice(0, length))).not.toBe('hit');
    }
    expect(await missOf(new Uint8Array([...entry, 0]))).toMatch(/truncated or padded/);
    for (const at of [
      0,
      4,
      5,
      6,
      9,
      13,
      15,
      17,
      18,
      21,
      25,
      30,
      61,
      HEADER_BYTES,
      HEADER_BYTES + 100,
      entry.length - 1,
    ]) {
      const bad = entry.slice();
      bad[at] ^= 0x10;
      expect(await missOf(bad), `bit flipped at ${at}`).not.toBe('hit');
    }
  });

  it('misses on another chain hash, latent shape or position', async () => {
    const entry = await encodeLatentEntry(rows, 'fp8', await hashOf());
    expect(await missOf(entry, { chainHash: await hashOf('salt_b') })).toMatch(/chain hash/);
    expect(await missOf(entry, { shape: { ...LATENT, kvLoraRank: 64 } })).toMatch(/shape/);
    expect(await missOf(entry, { shape: { ...LATENT, ropeDim: 8 } })).toMatch(/shape/);
    expect(await missOf(entry, { shape: { ...LATENT, nLayers: 4 } })).toMatch(/shape/);
    expect(await missOf(entry, { start: 0 })).toMatch(/positions/);
    expect(await missOf(entry, { count: 32 })).toMatch(/positions/);
  });

  it('never takes a GQA entry for a latent one, nor the reverse', async () => {
    const latent = await encodeLatentEntry(rows, 'f16', await hashOf());
    const gqa = await encodeEntry(randomRows(SHAPE, 64, 64), 'f16', await hashOf());
    expect(await missOf(gqa)).toMatch(/not a latent/);
    const asGqa = await decodeEntry(latent, {
      chainHash: await hashOf(),
      shape: SHAPE,
      start: 64,
      count: 64,
    });
    expect(asGqa.ok).toBe(false);
  });
});
