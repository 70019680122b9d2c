// The entry codec: f16 bits, CRC-32, every codec's round trip (byte-for-byte on re-encode, error
// bounds), and damage: a truncated, bit-flipped or foreign entry decodes to a miss, never to rows.
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32Reference } from '../../../engine/prompt-cache/crc32';
import {
  CODEC_NAMES,
  HEADER_BYTES,
  crc32,
  decodeEntry,
  encodeEntry,
  fromBase64,
  f16ToF32,
  packPayload,
  payloadBytes,
  toBase64,
  f32ToF16,
  unpackPayload,
  type CodecName,
  type GqaKvRows,
  type KvShape,
} from '../../../engine/index';
import { SHAPE, hashOf, maxError, randomRows } from './helpers';

describe('f16', () => {
  it('round-trips every finite f16 exactly and keeps NaN', () => {
    for (let h = 0; h < 65536; h++) {
      const v = f16ToF32(h);
      if (Number.isNaN(v)) expect(Number.isNaN(f16ToF32(f32ToF16(v)))).toBe(true);
      else expect(f32ToF16(v)).toBe(h);
    }
  });

  it('rounds to nearest even, overflows to Infinity, underflows through subnormals', () => {
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie → even (1.0)
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (1 + 2^-9)
    expect(f32ToF16(65504)).toBe(0x7bff);
    expect(f32ToF16(65520)).toBe(0x7c00); // halfway to the next binade rounds up to Infinity
    expect(f32ToF16(2 ** -24)).toBe(0x0001);
    expect(f32ToF16(2 ** -25)).toBe(0x0000); // tie → even (0)
    expect(f32ToF16(1.5 * 2 ** -25)).toBe(0x0001);
    expect(f32ToF16(-0)).toBe(0x8000);
  });
});

it("crc32 is zlib's", () => {
  expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  const all = new TextEncoder().encode('hello world');
  expect(crc32(all.subarray(5), crc32(all.subarray(0, 5)))).toBe(crc32(all));
  // slicing-by-8 against its bytewise twin and node:zlib, on every length around the 8-byte stride
  // and every alignment of the view, continued from a non-zero CRC too
  const bytes = Uint8Array.from({ length: 4099 }, (_, i) => (i * 2654435761) >>> 24);
  for (const len of [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 4090])
    for (let off = 0; off < 9; off++) {
      const view = bytes.subarray(off, off + len);
      expect(crc32(view)).toBe(zlibCrc32(view));
      expect(crc32(view, 0xdeadbeef)).toBe(crc32Reference(view, 0xdeadbeef));
      // the origin hands crc32 over to node:zlib's (useNativeCrc32): a continued CRC means the same there
      expect(zlibCrc32(view, 0xdeadbeef)).toBe(crc32Reference(view, 0xdeadbeef));
    }
});

it('base64 is RFC 4648 (as Node writes it), round-trips any bytes and rejects non-base64', () => {
  for (const length of [0, 1, 2, 3, 4, 5, 70_000]) {
    const bytes = Uint8Array.from({ length }, (_, i) => (i * 31 + (i >> 8)) & 0xff);
    expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    expect(fromBase64(toBase64(bytes))).toEqual(bytes);
  }
  expect(fromBase64('not base64!')).toBeNull();
});

/** Worst error allowed per value: by group of headDim (token-head), or by channel over the block's tokens. */
function checkBounds(
  codec: CodecName,
  part: 'keys' | 'values',
  want: Float32Array,
  got: Float32Array,
): void {
  const G = SHAPE.headDim,
    channels = SHAPE.nKvHeads * G,
    count = want.length / (SHAPE.nLayers * channels);
  if (codec === 'f32') return expect(got).toEqual(want);
  if (codec === 'f16')
    return want.forEach((x, i) =>
      expect(Math.abs(got[i] - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -11 + 2 ** -25),
    );
  if (codec === 'int8' && part === 'keys') {
    for (let l = 0; l < SHAPE.nLayers; l++) {
      for (let c = 0; c < channels; c++) {
        const idx = Array.from({ length: count }, (_, t) => (l * count + t) * channels + c);
        const range = Math.max(...idx.map((i) => want[i])) - Math.min(...idx.map((i) => want[i]));
        for (const i of idx)
          expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(
            (range / 255) * (0.5 + 2 ** -9) + 1e-6,
          );
      }
    }
    return;
  }
  if (codec === 'int4') return checkInt4(SHAPE, count, part, want, got);
  if (codec === 'kv4') return checkKv4(SHAPE, count, part, want, got);
  const relative = codec === 'fp8' ? 2 ** -4 + 2 ** -10 : 1 / 254 + 2 ** -10;
  for (let g = 0; g < want.length; g += G) {
    const { abs, amax } = maxError(want.subarray(g, g + G), got.subarray(g, g + G));
    expect(abs).toBeLessThanOrEqual(amax * relative);
  }
}

/** int4: asymmetric 4-bit per group: half a step (range / 15) plus the f16 rounding of the group's min. */
function checkInt4(
  shape: KvShape,
  count: number,
  part: 'keys' | 'values',
  want: Float32Array,
  got: Float32Array,
): void {
  const kvDim = shape.nKvHeads * shape.headDim;
  const groups: number[][] = [];
  if (part === 'keys') {
    for (let l = 0; l < shape.nLayers; l++) {
      for (let t0 = 0; t0 < count; t0 += 32) {
        for (let c = 0; c < kvDim; c++)
          groups.push(
            Array.from(
              { length: Math.min(32, count - t0) },
              (_, t) => (l * count + t0 + t) * kvDim + c,
            ),
          );
      }
    }
  } else {
    for (let row = 0; row < want.length / kvDim; row++) {
      for (let c0 = 0; c0 < kvDim; c0 += 32)
        groups.push(
          Array.from({ length: Math.min(32, kvDim - c0) }, (_, c) => row * kvDim + c0 + c),
        );
    }
  }
  expect(groups.flat().length).toBe(want.length);
  for (const idx of groups) {
    const min = Math.min(...idx.map((i) => want[i])),
      range = Math.max(...idx.map((i) => want[i])) - min;
    const bound = (range / 15) * (0.5 + 2 ** -9) + Math.abs(min) * 2 ** -11 + 1e-6;
    for (const i of idx) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(bound);
  }
}

/** Index lists of kv4's groups: keys per (layer, channel) over the block, values per (layer, token, 64 channels). */
function kv4Groups(shape: KvShape, count: number, part: 'keys' | 'values'): number[][] {
  const kvDim = shape.nKvHeads * shape.headDim,
    groups: number[][] = [];
  if (part === 'keys') {
    for (let l = 0; l < shape.nLayers; l++)
      for (let c = 0; c < kvDim; c++)
        groups.push(Array.from({ length: count }, (_, t) => (l * count + t) * kvDim + c));
  } else {
    for (let row = 0; row < shape.nLayers * count; row++) {
      for (let c0 = 0; c0 < kvDim; c0 += 64)
        groups.push(
          Array.from({ length: Math.min(64, kvDim - c0) }, (_, c) => row * kvDim + c0 + c),
        );
    }
  }
  return groups;
}

/**
 * kv4 (keys as given, i.e. already turned back when they carry RoPE): half a step plus the f16
 * rounding of the group's min; a key step is at most (range / 15)(1 + 2^-10), a value step (2^(1/8)
 * apart, span rounded to 11) at most range / 10.5.
 */
function checkKv4(
  shape: KvShape,
  count: number,
  part: 'keys' | 'values',
  want: Float32Array,
  got: Float32Array,
): void {
  const groups = kv4Groups(shape, count, part);
  expect(groups.flat().length).toBe(want.length);
  for (const idx of groups) {
    const min = Math.min(...idx.map((i) => want[i])),
      range = Math.max(...idx.map((i) => want[i])) - min;
    const step = part === 'keys' ? (range / 15) * (1 + 2 ** -9) : range / 10.5;
    const bound = step / 2 + Math.abs(min) * 2 ** -11 + 1e-6;
    for (const i of idx) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(bound);
  }
}

/** Keys of `rows` turned back by RoPE at their positions (as kv4 quantizes them). */
function unturned(rows: GqaKvRows, freqs: Float32Array, keys = rows.keys): Float32Array {
  const out = keys.slice(),
    kvDim = rows.nKvHeads * rows.headDim;
  for (let i = 0; i < out.length; i += 2) {
    const t = Math.floor(i / kvDim) % rows.count,
      angle = -(rows.start + t) * freqs[(i % rows.headDim) >> 1];
    out[i] = keys[i] * Math.cos(angle) - keys[i + 1] * Math.sin(angle);
    out[i + 1] = keys[i] * Math.sin(angle) + keys[i + 1] * Math.cos(angle);
  }
  return out;
}

describe('kv4', () => {
  it('quantizes keys before RoPE: a channel constant before RoPE costs almost nothing, and the turn is undone', async () => {
    const shape = { nLayers: 2, nKvHeads: 2, headDim: 8 },
      count = 64,
      start = 192;
    const freqs = Float32Array.from({ length: 4 }, (_, i) => 10000 ** (-(2 * i) / 8));
    const rows = randomRows(shape, start, count, 3);
    const kvDim = shape.nKvHeads * shape.headDim;
    // each channel before RoPE: its own offset plus a little noise; then RoPE, as the engine caches keys
    const before = rows.keys.map((x, i) => 3 * Math.sin(i % kvDim) + 0.01 * x);
    const roped = {
      ...rows,
      rope: freqs,
      keys: unturned(
        { ...rows },
        Float32Array.from(freqs, (f) => -f),
        before,
      ),
    };
    const hash = await hashOf();
    const entry = await encodeEntry(roped, 'kv4', hash);
    const decoded = await decodeEntry(entry, { chainHash: hash, shape, start, count });
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.rows.rope).toEqual(freqs);
    checkKv4(shape, count, 'keys', before, unturned(decoded.rows, freqs));
    // after RoPE the same channels swing over ±3: int4's 32-token groups err several times more
    const int4 = await decodeEntry(await encodeEntry(roped, 'int4', hash), {
      chainHash: hash,
      shape,
      start,
      count,
    });
    const [errKv4, errInt4] = [
      maxError(roped.keys, decoded.rows.keys).abs,
      maxError(roped.keys, (int4 as { rows: GqaKvRows }).rows.keys).abs,
    ];
    expect(errKv4 * 4, `kv4 ${errKv4}, int4 ${errInt4}`).toBeLessThan(errInt4);
    expect(await encodeEntry(decoded.rows, 'kv4', hash)).toEqual(entry);
  });

  it('round-trips shapes with a short value group and an odd number of codes, byte for byte on re-encode', () => {
    const cases: [KvShape, number][] = [
      [{ nLayers: 2, nKvHeads: 3, headDim: 30 }, 40],
      [{ nLayers: 1, nKvHeads: 3, headDim: 6 }, 7],
    ];
    for (const [shape, count] of cases) {
      const rows = randomRows(shape, 5, count, 11);
      const freqs = Float32Array.from(
        { length: shape.headDim / 2 },
        (_, i) => 10000 ** (-(2 * i) / shape.headDim),
      );
      const payload = packPayload(shape, count, { ...rows, rope: freqs }, 'kv4', 5);
      expect(payload.length).toBe(payloadBytes(shape, count, 'kv4'));
      const back = unpackPayload(shape, count, payload, 'kv4', 5);
      checkKv4(shape, count, 'keys', unturned(rows, freqs), unturned(rows, freqs, back.keys));
      checkKv4(shape, count, 'values', rows.values, back.values);
      expect(packPayload(shape, count, back, 'kv4', 5)).toEqual(payload);
    }
  });
});

it('int4 round-trips shapes with short groups and an odd number of codes', () => {
  const cases: [KvShape, number][] = [
    [{ nLayers: 2, nKvHeads: 3, headDim: 12 }, 40],
    [{ nLayers: 1, nKvHeads: 3, headDim: 5 }, 7],
  ];
  for (const [shape, count] of cases) {
    const rows = randomRows(shape, 0, count, 11);
    const payload = packPayload(shape, count, rows, 'int4');
    expect(payload.length).toBe(payloadBytes(shape, count, 'int4'));
    const back = unpackPayload(shape, count, payload, 'int4');
    checkInt4(shape, count, 'keys', rows.keys, back.keys);
    checkInt4(shape, count, 'values', rows.values, back.values);
    expect(packPayload(shape, count, back, 'int4')).toEqual(payload);
  }
});

describe.each(CODEC_NAMES)('%s codec', (codec) => {
  it('decodes what it encoded, within its error bound, and re-encodes byte for byte', async () => {
    const rows = randomRows(SHAPE, 128, 64);
    const hash = await hashOf();
    const entry = await encodeEntry(rows, codec, hash);
    const expectation = { chainHash: hash, shape: SHAPE, start: 128, count: 64 };
    const decoded = await decodeEntry(entry, expectation);
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.codec).toBe(codec);
    expect(decoded.rows).toMatchObject({ ...SHAPE, start: 128, count: 64 });
    // what decode returns is exactly the dequantized payload the encoder packed
    expect(decoded.rows.keys).toEqual(
      unpackPayload(SHAPE, 64, packPayload(SHAPE, 64, rows, codec), codec).keys,
    );
    checkBounds(codec, 'keys', rows.keys, decoded.rows.keys);
    checkBounds(codec, 'values', rows.values, decoded.rows.values);
    expect(await encodeEntry(decoded.rows, codec, hash)).toEqual(entry);
  });

  it('is a miss when truncated anywhere', async () => {
    const hash = await hashOf();
    const entry = await encodeEntry(randomRows(SHAPE, 0, 64), codec, hash);
    const expectation = { chainHash: hash, shape: SHAPE, start: 0, count: 64 };
    for (const length of [
      0,
      10,
      HEADER_BYTES - 1,
      HEADER_BYTES,
      HEADER_BYTES + 1,
      entry.length >> 1,
      entry.length - 1,
    ]) {
      expect((await decodeEntry(entry.subarray(0, length), expectation)).ok).toBe(false);
    }
    const padded = new Uint8Array(entry.length + 1);
    padded.set(entry);
    expect((await decodeEntry(padded, expectation)).ok).toBe(false);
  });

  it('is a miss with any single flipped bit (header and body)', async () => {
    const hash = await hashOf();
    const entry = await encodeEntry(randomRows(SHAPE, 0, 64), codec, hash);
    const expectation = { chainHash: hash, shape: SHAPE, start: 0, count: 64 };
    const positions = [...Array.from({ length: HEADER_BYTES }, (_, i) => i)];
    for (let i = HEADER_BYTES; i < entry.length; i += Math.max(1, Math.floor(entry.length / 150)))
      positions.push(i);
    positions.push(entry.length - 1);
    for (const at of positions) {
      const bit = at % 8;
      const damaged = entry.slice();
      damaged[at] ^= 1 << bit;
      const result = await decodeEntry(damaged, expectation);
      expect(result.ok, `bit ${bit} of byte ${at}`).toBe(false);
    }
  });
});

describe('a foreign entry is a miss', () => {
  const rows = randomRows(SHAPE, 64, 64);
  const entryFor = async (hash: Uint8Array, r: GqaKvRows = rows) => encodeEntry(r, 'int8', hash);

  it('another model, tenant or weights version (chain hash)', async () => {
    const entry = await entryFor(await hashOf('salt_a', 'model-a'));
    for (const hash of [
      await hashOf('salt_a', 'model-b'),
      await hashOf('salt_b', 'model-a'),
      await hashOf('salt_a', 'model-a', 'e'.repeat(64)),
    ]) {
      const result = await decodeEntry(entry, {
        chainHash: hash,
        shape: SHAPE,
        start: 64,
        count: 64,
      });
      expect(result).toEqual({ ok: false, reason: expect.stringContaining('chain hash') });
    }
  });

  it('another KV shape or position', async () => {
    const hash = await hashOf();
    const entry = await entryFor(hash);
    const other = { ...SHAPE, nKvHeads: 8, headDim: 4 };
    expect(
      await decodeEntry(entry, { chainHash: hash, shape: other, start: 64, count: 64 }),
    ).toMatchObject({ ok: false, reason: expect.stringContaining('shape') });
    expect(
      await decodeEntry(entry, { chainHash: hash, shape: SHAPE, start: 0, count: 64 }),
    ).toMatchObject({ ok: false, reason: expect.stringContaining('positions') });
  });

  it('refuses to encode non-finite KV values', async () => {
    const bad = randomRows(SHAPE, 0, 64);
    bad.values[100] = NaN;
    await expect(encodeEntry(bad, 'int8', await hashOf())).rejects.toThrow(/finite/);
    await expect(encodeEntry(bad, 'fp8', await hashOf())).rejects.toThrow(/finite/);
    await expect(encodeEntry(bad, 'int4', await hashOf())).rejects.toThrow(/finite/);
    await expect(encodeEntry(bad, 'kv4', await hashOf())).rejects.toThrow(/finite/);
    const badKey = randomRows(SHAPE, 0, 64);
    badKey.keys[5] = Infinity;
    await expect(encodeEntry(badKey, 'int8', await hashOf())).rejects.toThrow(/finite/);
    await expect(encodeEntry(badKey, 'int4', await hashOf())).rejects.toThrow(/finite/);
    await expect(encodeEntry(badKey, 'kv4', await hashOf())).rejects.toThrow(/finite/);
    const nanKey = randomRows(SHAPE, 0, 64);
    nanKey.keys[40] = NaN;
    await expect(encodeEntry(nanKey, 'int4', await hashOf())).rejects.toThrow(/finite/);
    await expect(encodeEntry(nanKey, 'kv4', await hashOf())).rejects.toThrow(/finite/);
  });
});

it('payload sizes: f16 is half of f32; the 8-bit codecs half of f16 plus their scales; int4 and kv4 a quarter plus theirs', () => {
  const n = SHAPE.nLayers * 64 * SHAPE.nKvHeads * SHAPE.headDim;
  const channels = SHAPE.nLayers * SHAPE.nKvHeads * SHAPE.headDim;
  expect(payloadBytes(SHAPE, 64, 'f32')).toBe(8 * n);
  expect(payloadBytes(SHAPE, 64, 'f16')).toBe(4 * n);
  expect(payloadBytes(SHAPE, 64, 'int8')).toBe(2 * n + 6 * channels + 2 * (n / SHAPE.headDim)); // key lo f32 + scale f16 per channel
  expect(payloadBytes(SHAPE, 64, 'int8-head')).toBe(2 * n + 4 * (n / SHAPE.headDim));
  expect(payloadBytes(SHAPE, 64, 'fp8')).toBe(payloadBytes(SHAPE, 64, 'int8-head'));
  // codes n/2 bytes each; f16 (lo, scale) per channel per 32 tokens (keys), per token per 32 channels (values)
  expect(payloadBytes(SHAPE, 64, 'int4')).toBe(
    n + 4 * (2 * channels) + 4 * (SHAPE.nLayers * 64 * 1),
  );
  expect(payloadBytes(SHAPE, 3, 'int4')).toBe(
    2 * Math.ceil(((n / 64) * 3) / 4) * 2 + 4 * channels + 4 * (SHAPE.nLayers * 3),
  );
  // kv4: RoPE frequencies f32[headDim/2]; codes n/2 bytes each; f16 (lo, scale) per channel (keys); f16 lo + u8 exponent per token per 64 channels (values)
  expect(payloadBytes(SHAPE, 64, 'kv4')).toBe(
    4 * (SHAPE.headDim / 2) + n + 4 * channels + 3 * (SHAPE.nLayers * 64 * 1),
  );
});
