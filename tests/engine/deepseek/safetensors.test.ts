import { describe, expect, it } from 'vitest';
import {
  SafetensorsError,
  bf16Bytes,
  readSafetensors,
  tensorToFloat32,
  writeSafetensors,
  type TensorInput,
} from '../../../engine/formats/safetensors';
import { f16ToF32 } from '../../../engine/formats/f16';

const tensors: Record<string, TensorInput> = {
  'a.f32': { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0.25, 1e-8, -7]) },
  'b.i32': { dtype: 'I32', shape: [3], data: Int32Array.from([-1, 0, 2 ** 30]) },
  'c.bf16': { dtype: 'BF16', shape: [3], data: bf16Bytes([1, -0.5, 3.140625]) },
  'd.f16': { dtype: 'F16', shape: [2], data: Uint16Array.from([0x3c00, 0xc000]) }, // 1, -2
  'e.fp8': { dtype: 'F8_E4M3', shape: [1, 3], data: Uint8Array.from([0x38, 0x7e, 0x01]) },
  'f.i8': { dtype: 'I8', shape: [2], data: Int8Array.from([-128, 127]) },
  'g.u8': { dtype: 'U8', shape: [1], data: Uint8Array.from([255]) },
  'h.empty': { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
};

describe('safetensors', () => {
  it('round-trips every supported dtype, with metadata', () => {
    const bytes = writeSafetensors(tensors, { format: 'pt' });
    const file = readSafetensors(bytes);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect([...file.tensors.keys()].sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const v = file.tensors.get(name)!;
      expect(v.dtype).toBe(t.dtype);
      expect(v.shape).toEqual(t.shape);
      expect([...v.bytes]).toEqual([
        ...new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      ]);
    }
    const f = (n: string) => [...tensorToFloat32(file.tensors.get(n)!)];
    expect(f('a.f32')).toEqual([...tensors['a.f32'].data]);
    expect(f('b.i32')).toEqual([-1, 0, 2 ** 30]);
    expect(f('c.bf16')).toEqual([1, -0.5, 3.140625]);
    expect(f('d.f16')).toEqual([1, -2]);
    expect(f('f.i8')).toEqual([-128, 127]);
    expect(f('g.u8')).toEqual([255]);
    expect(() => tensorToFloat32(file.tensors.get('e.fp8')!)).toThrow(/weight_scale_inv/);
  });

  it('decodes BF16/F16 from a Node Buffer (whose slice() shares a pool) without reading neighbours', () => {
    const bytes = writeSafetensors(tensors);
    // A small Buffer lives in Node's shared 8 KiB pool: its .buffer holds other bytes around it.
    const pooled = Buffer.from(bytes);
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.byteLength);
    const file = readSafetensors(pooled);
    expect([...tensorToFloat32(file.tensors.get('c.bf16')!)]).toEqual([1, -0.5, 3.140625]);
    expect([...tensorToFloat32(file.tensors.get('d.f16')!)]).toEqual([1, -2]);
  });

  it('lays out the header 8-aligned and 4-byte tensors first, so F32 reads are zero-copy views', () => {
    const bytes = writeSafetensors(tensors);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const a = readSafetensors(bytes).tensors.get('a.f32')!;
    expect(tensorToFloat32(a).buffer).toBe(bytes.buffer);
  });

  it('rounds BF16 to nearest even and decodes F16 subnormals and specials', () => {
    expect([...new Uint16Array(bf16Bytes([1 + 2 ** -8, 1 + 3 * 2 ** -8, NaN]).buffer)]).toEqual([
      0x3f80, 0x3f82, 0x7fc0,
    ]);
    expect(f16ToF32(0x0001)).toBe(2 ** -24);
    expect(f16ToF32(0x7c00)).toBe(Infinity);
    expect(f16ToF32(0x7e00)).toBeNaN();
  });

  it('rejects damaged files with a message naming the problem', () => {
    const good = writeSafetensors({
      x: { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) },
    });
    const withHeader = (h: object, data = 8) => {
      const json = new TextEncoder().encode(JSON.stringify(h));
      const out = new Uint8Array(8 + json.length + data);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      return out;
    };
    expect(() => readSafetensors(good.subarray(0, 4))).toThrow(SafetensorsError);
    expect(() => readSafetensors(good.subarray(0, good.length - 1))).toThrow(
      /run past the data section/,
    );
    expect(() =>
      readSafetensors(withHeader({ x: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } })),
    ).toThrow(/unsupported dtype "F64"/);
    expect(() =>
      readSafetensors(withHeader({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } })),
    ).toThrow(/want 12/);
    expect(() =>
      readSafetensors(withHeader({ x: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } })),
    ).toThrow(/must tile/);
    expect(() =>
      readSafetensors(withHeader({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } })),
    ).toThrow(/trailing bytes/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
    expect(() => readSafetensors(huge)).toThrow(/header length/);
  });
});
