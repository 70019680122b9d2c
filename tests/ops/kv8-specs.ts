// How the int8 KV cache ops (Kv8Ops) are exercised: a host quantizer that states the kernels' rounding
// (scale = f32(amax/127), codes = round-half-even(f32(x · f32(127/amax))) clamped to ±127), float64
// references of attention over the dequantized cache, and costs. quantizeKv8 must reproduce the host's
// codes and scales exactly, on a group of zeros and on exact .5 ties too.
import type { Kv8Ops } from '../../kernels-wasm/types';
import { placeBytes, placeF32, uniform, type Family, type OpSpec } from './case';
import { refAttention, type AttentionShape } from './reference';

export const kv8Family: Family<Kv8Ops> = {
  name: 'kv8',
  of: (b) => b.kv8 && { main: b.kv8, scalar: b.kv8.scalar },
};

const f = Math.fround;
const halfEven = (v: number) => {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/** The kernels' quantizer, on the host. */
export function hostQuantizeKv8(x: Float32Array, group: number) {
  const groups = x.length / group;
  const codes = new Int8Array(x.length),
    scales = new Float32Array(groups);
  for (let g = 0; g < groups; g++) {
    let amax = 0;
    for (let i = g * group; i < (g + 1) * group; i++) amax = Math.max(amax, Math.abs(x[i]));
    scales[g] = f(amax / 127);
    const inv = amax > 0 ? f(127 / amax) : 0;
    for (let i = g * group; i < (g + 1) * group; i++)
      codes[i] = Math.max(-127, Math.min(127, halfEven(f(x[i] * inv))));
  }
  return { codes, scales };
}

function dequantize(codes: Int8Array, scales: Float32Array, group: number): Float64Array {
  return Float64Array.from(codes, (c, i) => c * scales[Math.floor(i / group)]);
}

export interface QuantizeKv8Shape {
  groups: number;
  group: number;
}

export const quantizeKv8Spec: OpSpec<Kv8Ops, QuantizeKv8Shape, { x: Float32Array }> = {
  family: kv8Family,
  setup(s, rand) {
    const x = uniform(rand, s.groups * s.group, -3, 3);
    if (s.groups > 1) x.fill(0, s.group, 2 * s.group); // an all-zero group: scale 0, codes 0
    if (s.group >= 4) {
      // group 0's amax 127/64: 127/amax = 64 exactly, so these land on .5 ties (0.5, -1.5, 2.5)
      for (let i = 0; i < s.group; i++) x[i] *= 0.6;
      x.set([127 / 64, 0.5 / 64, -1.5 / 64, 2.5 / 64]);
    }
    return { x };
  },
  checks(h, s) {
    const { codes, scales } = hostQuantizeKv8(h.x, s.group);
    return [
      { output: 'codes', label: 'vs the host quantizer', want: codes, nmse: 0 },
      { output: 'scales', label: 'vs the host quantizer', want: scales, nmse: 0 },
      { output: 'dequantized', label: 'vs x (int8 rounding)', want: h.x, nmse: 1e-4 },
    ];
  },
  place(b, h, s) {
    const n = s.groups * s.group;
    const ptrs = {
      x: placeF32(b, h.x),
      codes: b.alloc(Math.ceil(n / 4)),
      scales: b.alloc(s.groups),
    };
    return {
      ptrs,
      outputs: {},
      reset: () => b.write(ptrs.x, h.x),
      read() {
        const codes = Float32Array.from(new Int8Array(b.bytes!(ptrs.codes, n).slice().buffer));
        const scales = b.f32(ptrs.scales, s.groups).slice();
        const dequantized = Float32Array.from(codes, (c, i) => c * scales[Math.floor(i / s.group)]);
        return { codes, scales, dequantized };
      },
    };
  },
  invoke: (o, p, s) => o.quantizeKv8(p.codes, p.scales, p.x, s.groups, s.group),
  cost: (s) => ({ flops: 3 * s.groups * s.group, bytes: 5 * s.groups * s.group + 4 * s.groups }),
};

interface AttentionKv8Host {
  q: Float32Array;
  k: ReturnType<typeof hostQuantizeKv8>;
  v: ReturnType<typeof hostQuantizeKv8>;
}

export const attentionKv8Spec: OpSpec<Kv8Ops, AttentionShape, AttentionKv8Host> = {
  family: kv8Family,
  setup(s, rand) {
    const kv = s.nPos * s.nKvHeads * s.headDim;
    return {
      q: uniform(rand, s.nHeads * s.headDim, -2, 2),
      k: hostQuantizeKv8(uniform(rand, kv, -2, 2), s.headDim),
      v: hostQuantizeKv8(uniform(rand, kv), s.headDim),
    };
  },
  checks(h, s) {
    const k = dequantize(h.k.codes, h.k.scales, s.headDim),
      v = dequantize(h.v.codes, h.v.scales, s.headDim);
    return [
      {
        output: 'out',
        label: 'vs float64 attention over the dequantized cache',
        want: refAttention(h.q, k, v, s),
      },
    ];
  },
  place(b, h, s) {
    const u8 = (c: Int8Array) => new Uint8Array(c.buffer, c.byteOffset, c.byteLength);
    const ptrs = {
      q: placeF32(b, h.q),
      kc: placeBytes(b, u8(h.k.codes)),
      ks: placeF32(b, h.k.scales),
      vc: placeBytes(b, u8(h.v.codes)),
      vs: placeF32(b, h.v.scales),
      att: b.alloc(s.nHeads * s.nPos),
      out: b.alloc(s.nHeads * s.headDim),
    };
    return { ptrs, outputs: { out: s.nHeads * s.headDim }, reset: () => {} };
  },
  invoke: (o, p, s) =>
    o.attentionKv8(
      p.out,
      p.q,
      p.kc,
      p.ks,
      p.vc,
      p.vs,
      p.att,
      s.nHeads,
      s.nKvHeads,
      s.headDim,
      s.nPos,
    ),
  cost: (s) => ({
    flops: 4 * s.nHeads * s.nPos * s.headDim + 6 * s.nHeads * s.nPos,
    bytes: s.nPos * s.nKvHeads * (2 * s.headDim + 8) + 8 * s.nHeads * (s.headDim + s.nPos),
  }),
};
